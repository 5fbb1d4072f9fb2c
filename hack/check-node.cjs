// Runs before `npm start` / `npm test` on whatever Node the machine has (so: CommonJS, old
// syntax only) and stops a wrong one with one line instead of ERR_UNKNOWN_FILE_EXTENSION.
'use strict';
var required = require('../package.json').engines.node;
var major = Number(process.versions.node.split('.')[0]);
var wanted = Number(/>=\s*(\d+)/.exec(required)[1]);
var below = Number((/<\s*(\d+)/.exec(required) || [0, Infinity])[1]);
if (major < wanted || major >= below) {
  console.error(
    'Weir needs Node.js ' + wanted + ' (package.json engines: "' + required + '"), but this is ' + process.version +
      ': install it with `npm install --global node@' + wanted + '` (or `nvm install`, which reads .nvmrc), then run npm ci again.'
  );
  process.exit(1);
}
