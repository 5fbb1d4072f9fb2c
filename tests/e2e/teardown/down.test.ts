// `hack/cluster.sh down` leaves nothing behind: no process, mount, network namespace,
// iptables rule or chain, nft table, CNI bridge or veth of the cluster, and the sysctls it
// changed are back to what `up` recorded. Runs last (tests/e2e/run.ts), against a cluster that
// ran the other e2e tests.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import t from 'tap';
import { clusterScript, clusterStateDir } from '../cluster.ts';

const run = promisify(execFile);
/** Must match BASELINE and RUN in hack/cluster.sh. */
const baselineFile = '/run/weir-cluster.baseline';
const runDir = '/run/weir-cluster';

async function output(command: string, args: readonly string[]): Promise<string> {
  return (await run(command, args, { maxBuffer: 64 * 1024 * 1024 })).stdout;
}

/**
 * The cluster's processes: those whose command line names its state or run directory (every
 * component and containerd's shims), and those in a pod's cgroup (containers).
 */
async function clusterProcesses(): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ').trim();
    const cgroup = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
    if (cmdline.includes(clusterStateDir) || cmdline.includes(runDir) || cgroup.includes('/kubepods')) found.push(`${pid}: ${cmdline}`);
  }
  return found;
}

t.test('hack/cluster.sh down removes every trace of the cluster', async (t) => {
  t.ok(existsSync(baselineFile), `the cluster recorded the host's state before it started (${baselineFile})`);
  const baseline = (await readFile(baselineFile, 'utf8').catch(() => '')).split('\n');
  t.ok((await clusterProcesses()).length > 0, 'the cluster runs before `down`');

  const down = await run('bash', [clusterScript, 'down'], { maxBuffer: 16 * 1024 * 1024 });
  t.comment(down.stderr.trim());

  t.same(await clusterProcesses(), [], 'no process of the cluster is left (components, containerd, shims, containers)');
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((line) => line.includes(clusterStateDir) || line.includes(runDir));
  t.same(mounts, [], 'no mount under the state or run directory is left');
  t.notOk(existsSync(clusterStateDir), `${clusterStateDir} is removed`);
  t.notOk(existsSync(runDir), `${runDir} is removed`);
  t.notOk(existsSync(baselineFile), 'the baseline record is removed');

  const namespaces = (await output('ip', ['netns', 'list'])).split('\n').map((line) => line.split(' ')[0] ?? '');
  t.same(namespaces.filter((ns) => ns.startsWith('cni-') && !baseline.includes(`netns ${ns}`)), [], 'no pod network namespace is left');

  const links = (await output('ip', ['-o', 'link', 'show'])).split('\n').map((line) => line.split(': ')[1]?.split('@')[0] ?? '');
  t.notOk(links.includes('cni0'), 'the cni0 bridge is removed');
  t.same(links.filter((name) => /^veth[0-9a-f]{8}$/.test(name)), [], 'no pod veth is left');

  for (const save of ['iptables-save', 'ip6tables-save']) {
    const rules = (await output(save, [])).split('\n').filter((line) => /\b(KUBE|CNI|WEIR)-/.test(line));
    t.same(rules, [], `${save} shows no KUBE-*, CNI-* or WEIR-* rule or chain`);
  }
  const tables = (await output('nft', ['list', 'tables'])).split('\n').filter((line) => line.startsWith('table '));
  t.same(
    tables.filter((line) => !baseline.includes(line.replace(/^table /, 'nft '))),
    [],
    'no nft table that was not there before the cluster',
  );

  for (const line of baseline.filter((entry) => entry.startsWith('absent '))) {
    const path = line.slice('absent '.length);
    t.notOk(existsSync(path), `${path}, absent before the cluster, is absent again`);
  }
  const hierarchies = await readdir('/sys/fs/cgroup');
  t.same(
    hierarchies.filter((hierarchy) => existsSync(`/sys/fs/cgroup/${hierarchy}/kubepods`)),
    [],
    'no kubepods cgroup is left in any hierarchy',
  );

  for (const line of baseline.filter((entry) => entry.startsWith('sysctl '))) {
    const [name, value] = line.slice('sysctl '.length).split('=');
    if (name === undefined || value === undefined) continue;
    const current = (await output('sysctl', ['-n', name])).trim();
    t.equal(current.replaceAll(/\s+/g, ' '), value.replaceAll(/\s+/g, ' '), `${name} is back to ${value}`);
  }
});
