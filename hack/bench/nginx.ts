/** The parts of a benchmark nginx configuration every bench shares: one worker, in the foreground, all state under `dir`. */
export const NGINX_TEMP_KINDS = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'] as const;

/** Wraps `httpBlock` (upstreams and servers) in a single-worker, foreground nginx configuration. */
export function nginxConfig(dir: string, httpBlock: string): string {
  const temp = NGINX_TEMP_KINDS.map((kind) => `  ${kind}_temp_path ${dir}/${kind};`).join('\n');
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
${temp}
${httpBlock}
}
`;
}
