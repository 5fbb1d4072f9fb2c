#!/usr/bin/env bash
# A one-node Kubernetes cluster on this machine, with Weir installed the README's way.
#
#   hack/cluster.sh up       build what is missing, start the cluster, install Weir and the
#                            sample Gateway, print how to reach it (idempotent)
#   hack/cluster.sh down     stop everything and remove every trace: processes, mounts,
#                            network namespaces, iptables rules, links, sysctls, state
#   hack/cluster.sh status   what runs, the node, the pods
#   hack/cluster.sh preflight  check the host only (what `up` checks before it starts anything)
#   hack/cluster.sh logs     the component log directory (for attaching to failures)
#
# Runs as root. Components: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubelet, kube-proxy (iptables) from hack/build-controlplane.sh; containerd, runc and the
# CNI plugins from Debian; CoreDNS and MetalLB (layer 2, pool WEIR_CLUSTER_LB_POOL) as pods.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATE=/var/lib/weir-cluster
RUN=/run/weir-cluster
# Outside $STATE: written before anything starts, read by `down` and by the teardown test.
BASELINE=/run/weir-cluster.baseline
LOGS=$STATE/logs
PKI=$STATE/pki
CNI_BIN_DIR=/usr/lib/cni
POD_CIDR=10.244.0.0/24
CLUSTER_CIDR=10.244.0.0/16
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1
DNS_IP=10.96.0.10
LB_POOL=${WEIR_CLUSTER_LB_POOL:-198.51.100.240/28}
API_PORT=6443
# Ports the host-network components listen on; `up` refuses to start when one is taken.
HOST_PORTS=(2379 2380 "$API_PORT" 10248 10249 10250 10256 10257 10259 7472 7946)
# Start order; `down` stops them in reverse.
COMPONENTS=(containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
# Host settings the cluster needs or the kubelet/kube-proxy change; restored by `down`.
SYSCTLS=(net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
  vm.overcommit_memory kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes
  net.ipv4.conf.all.route_localnet net.netfilter.nf_conntrack_tcp_timeout_established
  net.netfilter.nf_conntrack_tcp_timeout_close_wait net.netfilter.nf_conntrack_max)
# Paths the runtime pieces create outside $STATE and $RUN (CNI's result cache, the kubelet's
# /var/log/containers links, ...); `down` removes those that did not exist before `up`.
HOST_PATHS=(/var/lib/cni /var/log/pods /var/log/containers /opt/containerd /run/containerd /run/netns /etc/cni)
APT_PACKAGES="containerd runc containernetworking-plugins iptables nftables conntrack buildah debootstrap openssl curl"

bin_dir=$WEIR_CACHE_DIR/controlplane/current/bin
kubectl() { "$bin_dir/kubectl" --kubeconfig "$STATE/admin.kubeconfig" "$@"; }
ctr_k8s() { ctr --address "$RUN/containerd/containerd.sock" --namespace k8s.io "$@"; }
fail() { log "error: $*"; exit 1; }

pid_of() { # prints the pid of a running component, or fails
  local file=$RUN/pids/$1.pid pid
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  [[ -d /proc/$pid ]] || return 1
  echo "$pid"
}
running_components() {
  local c
  for c in "${COMPONENTS[@]}"; do pid_of "$c" >/dev/null && echo "$c"; done
  return 0
}

node_name() { hostname | tr '[:upper:]' '[:lower:]'; }
node_ip() { ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -1; }

# ---------------------------------------------------------------------------------------------
# Preflight: everything a host can lack, checked before anything is built or started.

preflight() {
  local problems=()
  [[ $(id -u) -eq 0 ]] || problems+=("not root: the cluster starts containerd and the kubelet and changes iptables; run: sudo $0 up")
  local tool missing=()
  for tool in containerd containerd-shim-runc-v2 ctr runc iptables ip6tables iptables-save nft conntrack ip openssl curl buildah debootstrap; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  for tool in bridge host-local portmap loopback; do
    [[ -x $CNI_BIN_DIR/$tool ]] || missing+=("$CNI_BIN_DIR/$tool")
  done
  ((${#missing[@]} == 0)) || problems+=("missing ${missing[*]}; run: apt-get install -y $APT_PACKAGES")
  command -v go >/dev/null 2>&1 || problems+=("missing go (the cluster's components are built from Go modules); install Go >= 1.26 from https://go.dev/dl/")
  command -v node >/dev/null 2>&1 || problems+=("missing node; install Node.js 24 (see README, Requirements)")

  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    local controller
    for controller in cpu memory pids; do
      grep -qw "$controller" /sys/fs/cgroup/cgroup.controllers ||
        problems+=("cgroup v2 controller '$controller' is not enabled (see /sys/fs/cgroup/cgroup.controllers); enable it on the kernel command line or in the parent cgroup")
    done
  else
    local subsystem
    for subsystem in cpu cpuacct cpuset memory pids devices freezer; do
      awk -v s="$subsystem" '$3 == "cgroup" && ("," $4 ",") ~ ("," s ",") { found = 1 } END { exit !found }' /proc/mounts ||
        problems+=("cgroup v1 controller '$subsystem' is not mounted under /sys/fs/cgroup; mount it (e.g. the cgroupfs-mount package) or boot with cgroup v2")
    done
  fi
  grep -qw overlay /proc/filesystems || problems+=("the kernel lacks overlayfs (containerd's snapshotter); run: modprobe overlay")
  [[ -d /proc/sys/net/bridge ]] || problems+=("the kernel lacks bridge netfilter (pod traffic through iptables); run: modprobe br_netfilter")
  [[ -d /proc/sys/net/netfilter ]] || problems+=("the kernel lacks conntrack (kube-proxy needs it); run: modprobe nf_conntrack")

  local port
  for port in "${HOST_PORTS[@]}"; do
    if [[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]; then
      problems+=("port $port is taken ($(ss -Hltnp "sport = :$port" | sed -n 's/.*users:((\("[^"]*"\).*/\1/p' | head -1)); the cluster's components listen on ${HOST_PORTS[*]}: stop what uses it")
    fi
  done
  [[ -n $(node_ip) ]] || problems+=("no IPv4 default route: the node needs an address other than loopback")
  if ip -4 -o addr show | awk '{ print $4 }' | grep -q "^${LB_POOL%.*}\."; then
    problems+=("the LoadBalancer pool $LB_POOL overlaps an address of this host; set WEIR_CLUSTER_LB_POOL to an unused range")
  fi
  if [[ -d $STATE || -d $RUN ]]; then
    problems+=("leftovers of an earlier cluster in $STATE or $RUN (nothing of it runs); run: $0 down")
  fi

  if ((${#problems[@]} > 0)); then
    local problem
    for problem in "${problems[@]}"; do log "preflight: $problem"; done
    fail "the host is not ready for the cluster (${#problems[@]} problem(s) above); nothing was started"
  fi
}

# ---------------------------------------------------------------------------------------------
# PKI and kubeconfigs, with plain openssl.

issue_cert() { # <name> <subject> [<subjectAltName>]
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI/$1.key" -subj "$2" -out "$PKI/$1.csr" 2>/dev/null
  local ext=$PKI/$1.ext
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ -n ${3:-} ]]; then echo "extendedKeyUsage=serverAuth"; echo "subjectAltName=$3"; else echo "extendedKeyUsage=clientAuth"; fi
  } >"$ext"
  openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -days 30 \
    -extfile "$ext" -out "$PKI/$1.crt" 2>/dev/null
  rm -f "$PKI/$1.csr" "$ext"
}

write_kubeconfig() { # <file> <cert name>
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: weir-cluster
    cluster: { server: "https://127.0.0.1:$API_PORT", certificate-authority: "$PKI/ca.crt" }
users:
  - name: $2
    user: { client-certificate: "$PKI/$2.crt", client-key: "$PKI/$2.key" }
contexts:
  - name: weir-cluster
    context: { cluster: weir-cluster, user: $2 }
current-context: weir-cluster
EOF
}

make_pki() {
  local node=$1 ip=$2
  mkdir -p "$PKI"
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -subj "/CN=weir-cluster-ca" -days 30 -out "$PKI/ca.crt" 2>/dev/null
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  issue_cert apiserver "/CN=kube-apiserver" \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$API_SERVICE_IP,IP:$ip"
  issue_cert admin "/O=system:masters/CN=weir-cluster-admin"
  issue_cert kube-controller-manager "/CN=system:kube-controller-manager"
  issue_cert kube-scheduler "/CN=system:kube-scheduler"
  issue_cert kube-proxy "/CN=system:kube-proxy"
  issue_cert kubelet "/O=system:nodes/CN=system:node:$node"
  local name
  for name in admin kube-controller-manager kube-scheduler kube-proxy kubelet; do
    write_kubeconfig "$STATE/$name.kubeconfig" "$name"
  done
}

# ---------------------------------------------------------------------------------------------
# Host state: recorded before `up` changes anything, restored by `down`.

record_baseline() {
  local name
  {
    for name in "${SYSCTLS[@]}"; do
      [[ -e /proc/sys/${name//.//} ]] && echo "sysctl $name=$(sysctl -n "$name")"
    done
    nft list tables 2>/dev/null | sed 's/^table /nft /'
    ip netns list 2>/dev/null | awk '{ print "netns " $1 }'
    local path
    for path in "${HOST_PATHS[@]}"; do [[ -e $path ]] || echo "absent $path"; done
  } >"$BASELINE"
}

render() { # <template> <output>
  sed -e "s|@STATE@|$STATE|g" -e "s|@RUN@|$RUN|g" -e "s|@CNI_BIN_DIR@|$CNI_BIN_DIR|g" \
    -e "s|@PAUSE_IMAGE@|$PAUSE_IMAGE|g" -e "s|@POD_CIDR@|$POD_CIDR|g" -e "s|@CLUSTER_CIDR@|$CLUSTER_CIDR|g" \
    -e "s|@DNS_IP@|$DNS_IP|g" -e "s|@NODE_IP@|$(node_ip)|g" -e "s|@NODE_NAME@|$(node_name)|g" \
    -e "s|@LB_POOL@|$LB_POOL|g" -e "s|@COREDNS_VERSION@|$COREDNS_VERSION|g" "$1" >"$2"
}

start_component() { # <name> <command...>
  local name=$1
  shift
  mkdir -p "$RUN/pids" "$LOGS"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/pids/$name.pid"
}

wait_for() { # <what> <timeout s> <command...>
  local what=$1 deadline=$((SECONDS + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      log "error: timed out waiting for $what"
      return 1
    fi
    sleep 1
  done
}

# A LoadBalancer address that kube-proxy does not (yet) serve would otherwise leave through the
# default route, and whatever answers there (an egress proxy here answers 404) looks like a
# Gateway; a client's kept-alive connection to it then never reaches the cluster. Served
# addresses are DNATed in nat OUTPUT/PREROUTING before these filter rules see the packet.
reject_unserved_lb_addresses() {
  iptables -N WEIR-LB-POOL 2>/dev/null || iptables -F WEIR-LB-POOL
  iptables -A WEIR-LB-POOL -d "$LB_POOL" -p tcp -j REJECT --reject-with tcp-reset
  iptables -A WEIR-LB-POOL -d "$LB_POOL" -j REJECT
  local chain
  for chain in OUTPUT FORWARD; do
    iptables -C "$chain" -j WEIR-LB-POOL 2>/dev/null || iptables -I "$chain" -j WEIR-LB-POOL
  done
}

start_cluster() {
  local node ip
  node=$(node_name)
  ip=$(node_ip)
  mkdir -p "$STATE" "$RUN" "$LOGS" "$STATE/cni/net.d"
  record_baseline
  make_pki "$node" "$ip"
  render "$WEIR_ROOT/hack/cluster/containerd.toml" "$STATE/containerd.toml"
  render "$WEIR_ROOT/hack/cluster/10-bridge.conflist" "$STATE/cni/net.d/10-bridge.conflist"
  render "$WEIR_ROOT/hack/cluster/kubelet.yaml" "$STATE/kubelet.yaml"
  render "$WEIR_ROOT/hack/cluster/kube-proxy.yaml" "$STATE/kube-proxy.yaml"

  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
  reject_unserved_lb_addresses

  log "starting containerd"
  start_component containerd containerd --config "$STATE/containerd.toml"
  wait_for containerd 30 ctr --address "$RUN/containerd/containerd.sock" version

  log "starting etcd, kube-apiserver"
  start_component etcd "$bin_dir/etcd" --name weir-cluster --data-dir "$STATE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster weir-cluster=http://127.0.0.1:2380
  start_component kube-apiserver "$bin_dir/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
    --secure-port "$API_PORT" --advertise-address "$ip" --allow-privileged=true \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --service-cluster-ip-range "$SERVICE_CIDR" --client-ca-file "$PKI/ca.crt" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --kubelet-client-certificate "$PKI/admin.crt" --kubelet-client-key "$PKI/admin.key" \
    --kubelet-preferred-address-types InternalIP,Hostname \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key"
  wait_for "kube-apiserver /readyz" 90 kubectl get --raw /readyz

  log "starting kube-controller-manager, kube-scheduler, kubelet, kube-proxy"
  start_component kube-controller-manager "$bin_dir/kube-controller-manager" \
    --kubeconfig "$STATE/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig "$STATE/kube-controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --allocate-node-cidrs=true \
    --cluster-cidr "$CLUSTER_CIDR" --node-cidr-mask-size 24 --service-cluster-ip-range "$SERVICE_CIDR" \
    --use-service-account-credentials=true --service-account-private-key-file "$PKI/sa.key" \
    --root-ca-file "$PKI/ca.crt" --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key"
  start_component kube-scheduler "$bin_dir/kube-scheduler" --kubeconfig "$STATE/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig "$STATE/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig "$STATE/kube-scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false
  start_component kubelet "$bin_dir/kubelet" --config "$STATE/kubelet.yaml" --root-dir "$STATE/kubelet" \
    --kubeconfig "$STATE/kubelet.kubeconfig" --hostname-override "$node" --node-ip "$ip"
  start_component kube-proxy "$bin_dir/kube-proxy" --config "$STATE/kube-proxy.yaml"
  wait_for "node $node Ready" 90 kubectl wait --for=condition=Ready "node/$node" --timeout=2s
}

import_images() {
  local ref archive
  while read -r ref archive; do
    ctr_k8s images import "$archive" >/dev/null ||
      fail "importing $ref from $archive into containerd failed"
  done <"$STATE/images.list"
}

install_addons() {
  log "installing CoreDNS $COREDNS_VERSION and MetalLB $METALLB_VERSION (pool $LB_POOL)"
  render "$WEIR_ROOT/hack/cluster/coredns.yaml" "$STATE/coredns.yaml"
  kubectl apply -f "$STATE/coredns.yaml" >/dev/null
  local metallb
  metallb=$(cd "$RUN" && go mod download -json "go.universe.tf/metallb@$METALLB_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  kubectl apply --server-side -f "$metallb/config/manifests/metallb-native.yaml" >/dev/null
  kubectl -n kube-system rollout status deploy/coredns --timeout=120s >/dev/null
  kubectl -n metallb-system rollout status deploy/controller --timeout=180s >/dev/null
  render "$WEIR_ROOT/hack/cluster/metallb-pool.yaml" "$STATE/metallb-pool.yaml"
  # The pool goes through MetalLB's validating webhook, which answers a little after the
  # controller reports ready.
  wait_for "MetalLB's webhook to accept the address pool" 60 kubectl apply -f "$STATE/metallb-pool.yaml"
  kubectl -n metallb-system rollout status ds/speaker --timeout=120s >/dev/null
}

weir_image_digests() { ctr_k8s images ls 2>/dev/null | awk '$1 ~ /^docker\.io\/weir\// { print $1, $3 }' | sort; }

# `up` on a running cluster with rebuilt Weir images (same tags): roll the operator and every
# dataplane the operator provisioned onto them.
restart_weir() {
  log "Weir's images changed: restarting the operator and the dataplanes"
  kubectl -n weir-system rollout restart deploy/weir-operator >/dev/null
  kubectl -n weir-system rollout status deploy/weir-operator --timeout=180s >/dev/null
  local namespace name
  kubectl get deploy -A -l app.kubernetes.io/managed-by=weir -o jsonpath='{range .items[*]}{.metadata.namespace} {.metadata.name}{"\n"}{end}' |
    while read -r namespace name; do
      [[ -n $name ]] || continue
      kubectl -n "$namespace" rollout restart "deploy/$name" >/dev/null
      kubectl -n "$namespace" rollout status "deploy/$name" --timeout=180s >/dev/null
    done
}

install_weir() {
  local crds=$WEIR_CACHE_DIR/gateway-api/$GATEWAY_API_VERSION/experimental
  log "installing the Gateway API $GATEWAY_API_VERSION CRDs and Weir (kubectl apply -k)"
  kubectl apply --server-side -f "$crds" >/dev/null
  kubectl wait --for=condition=Established crd --all --timeout=60s >/dev/null
  kubectl apply -k "$WEIR_ROOT/hack/cluster/weir" >/dev/null
  kubectl -n weir-system rollout status deploy/weir-redis --timeout=120s >/dev/null
  kubectl -n weir-system rollout status deploy/weir-operator --timeout=180s >/dev/null
}

install_sample() {
  kubectl apply -f "$WEIR_ROOT/config/samples/cluster/" >/dev/null
  kubectl wait --for=condition=Programmed gateway/demo --timeout=180s >/dev/null
}

print_usage_hint() {
  local address
  address=$(kubectl get gateway demo -o jsonpath='{.status.addresses[0].value}')
  cat <<EOF

Weir runs in a one-node Kubernetes $("$bin_dir/kubectl" version --client -o json | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | head -1) cluster on this machine.

  export KUBECONFIG=$STATE/admin.kubeconfig PATH=$bin_dir:\$PATH
  kubectl get gateway,httproute -A
  curl -H 'Host: shop.example.com' http://$address/
  curl -H 'Host: shop.example.com' http://$address/api/orders
  kubectl scale deploy/weir-demo --replicas=3

Stop it and remove every trace: sudo $0 down
EOF
}

up() {
  local start=$SECONDS running
  running=$(running_components | xargs)
  if [[ -z $running ]]; then
    preflight
  elif [[ $running != "${COMPONENTS[*]}" ]]; then
    fail "the cluster is partly running ($running); run: $0 down, then $0 up"
  fi
  require_root "hack/cluster.sh" up

  # Everything that can fail slowly happens before anything starts.
  bash "$WEIR_ROOT/hack/fetch-crds.sh"
  bash "$WEIR_ROOT/hack/build-controlplane.sh"
  local images
  images=$(bash "$WEIR_ROOT/hack/build-images.sh")
  log "built or found every component and image in $((SECONDS - start))s"

  if [[ -z $running ]]; then
    trap 'trap - ERR; log "error: the cluster did not come up; component logs: $LOGS (tails follow); tearing down"; tail_logs; down; exit 1' ERR
    set -E
    start_cluster
  fi
  echo "$images" >"$STATE/images.list"
  local weir_before
  [[ -z $running ]] || weir_before=$(weir_image_digests)
  import_images
  if [[ -z $running ]]; then
    install_addons
    log "cluster up in $((SECONDS - start))s"
  fi
  install_weir
  if [[ -n $running && $(weir_image_digests) != "$weir_before" ]]; then restart_weir; fi
  install_sample
  trap - ERR
  log "up in $((SECONDS - start))s"
  print_usage_hint
}

tail_logs() {
  local file
  for file in "$LOGS"/*.log; do
    [[ -f $file ]] || continue
    echo "----- $file (last 15 lines)" >&2
    tail -n 15 "$file" >&2
  done
}

# ---------------------------------------------------------------------------------------------
# Teardown: safe on a cluster that is whole, half started or already gone.

stop_component() {
  local name=$1 pid waited=0
  pid=$(pid_of "$name") || { rm -f "$RUN/pids/$name.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  while [[ -d /proc/$pid ]] && ((waited < 60)); do sleep 0.5; waited=$((waited + 1)); done
  [[ ! -d /proc/$pid ]] || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$RUN/pids/$name.pid"
}

# Pods first, while the kubelet still runs: it stops their containers and runs CNI DEL.
delete_workloads() {
  pid_of kube-apiserver >/dev/null && pid_of kubelet >/dev/null || return 0
  stop_component kube-controller-manager
  stop_component kube-scheduler
  kubectl delete pods --all --all-namespaces --grace-period=1 --wait=false >/dev/null 2>&1 || true
  wait_for "pods to be gone" 60 no_pods || true
  # The kubelet then stops the sandboxes (CNI DEL, network namespace removal).
  wait_for "pod sandboxes to stop" 30 no_tasks || true
}
no_pods() { [[ -z $(kubectl get pods --all-namespaces -o name 2>/dev/null) ]]; }
no_tasks() { [[ -z $(ctr_k8s tasks ls -q 2>/dev/null) ]]; }

# Whatever the kubelet did not clean up: containers still running in our containerd.
kill_leftover_containers() {
  [[ -S $RUN/containerd/containerd.sock ]] && pid_of containerd >/dev/null || return 0
  local task
  for task in $(ctr_k8s tasks ls -q 2>/dev/null); do
    ctr_k8s tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
  done
  sleep 1
  for task in $(ctr_k8s tasks ls -q 2>/dev/null); do ctr_k8s tasks delete -f "$task" >/dev/null 2>&1 || true; done
  for task in $(ctr_k8s containers ls -q 2>/dev/null); do ctr_k8s containers delete "$task" >/dev/null 2>&1 || true; done
}

# containerd's shims outlive it by design; ours are the ones serving our containerd's socket.
kill_leftover_shims() {
  local pid
  for pid in $(grep -lsF -- "$RUN/containerd/containerd.sock" /proc/[0-9]*/cmdline | cut -d/ -f3); do
    [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == */containerd-shim* ]] && kill -KILL "$pid" 2>/dev/null || true
  done
}

remove_mounts() {
  local target
  # Deepest first; pod volumes, the kubelet's self bind mount, rootfs and shm mounts.
  findmnt -rno TARGET | grep -E "^($STATE|$RUN)(/|$)" | sort -r | while read -r target; do
    umount "$target" 2>/dev/null || umount -l "$target" 2>/dev/null || true
  done
}

remove_netns() {
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^cni-/ { print $1 }'); do
    grep -qxF "netns $ns" "$BASELINE" 2>/dev/null && continue
    ip netns delete "$ns" 2>/dev/null || { umount "/run/netns/$ns" 2>/dev/null; rm -f "/run/netns/$ns"; }
  done
}

remove_links() {
  local link
  for link in $(ip -o link show master cni0 2>/dev/null | awk -F': ' '{ print $2 }' | cut -d@ -f1); do
    ip link delete "$link" 2>/dev/null || true
  done
  ip link delete cni0 2>/dev/null || true
}

# Rules and chains named KUBE-* (kube-proxy, kubelet), CNI-* (bridge ipMasq, portmap) and
# WEIR-* (reject_unserved_lb_addresses), from every table, IPv4 and IPv6.
remove_iptables() {
  if [[ -x $bin_dir/kube-proxy ]]; then "$bin_dir/kube-proxy" --cleanup >/dev/null 2>&1 || true; fi
  local family table rule chain
  for family in iptables ip6tables; do
    command -v "$family" >/dev/null 2>&1 || continue
    for table in filter nat mangle raw; do
      "$family" -t "$table" -S >/dev/null 2>&1 || continue
      # Jumps from built-in chains first, so the chains can go.
      "$family" -t "$table" -S | grep -E -- '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j (KUBE|CNI|WEIR)-' |
        while read -r rule; do
          eval "\"$family\" -t \"$table\" -D ${rule#-A }" 2>/dev/null || true
        done
      for chain in $("$family" -t "$table" -S | awk '$1 == "-N" && $2 ~ /^(KUBE|CNI|WEIR)-/ { print $2 }'); do
        "$family" -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$family" -t "$table" -S | awk '$1 == "-N" && $2 ~ /^(KUBE|CNI|WEIR)-/ { print $2 }'); do
        "$family" -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
  # iptables-nft leaves its tables behind, empty; drop those that were not there before.
  local family_name
  nft list tables 2>/dev/null | while read -r _ family_name table; do
    grep -qxF "nft $family_name $table" "$BASELINE" 2>/dev/null && continue
    if ! nft list table "$family_name" "$table" 2>/dev/null | grep -qE '^\s+(ip|ip6|tcp|udp|meta|ct|counter|jump|goto|accept|drop|return|mark)\b'; then
      nft delete table "$family_name" "$table" 2>/dev/null || true
    fi
  done
}

# The kubelet's pod cgroups (kubepods/...) in every hierarchy, once their processes are gone.
remove_cgroups() {
  local dir
  for dir in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods /sys/fs/cgroup/unified/kubepods; do
    [[ -d $dir ]] && find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

remove_host_paths() {
  [[ -f $BASELINE ]] || return 0
  local path
  find /var/log/containers -maxdepth 1 -lname "$STATE/*" -delete 2>/dev/null || true
  grep '^absent ' "$BASELINE" | while read -r _ path; do rm -rf "$path"; done
}

restore_sysctls() {
  [[ -f $BASELINE ]] || return 0
  local line
  grep '^sysctl ' "$BASELINE" | while read -r _ line; do sysctl -qw "$line" 2>/dev/null || true; done
}

down() {
  require_root "hack/cluster.sh" down
  # Best effort to the end: one step that finds nothing to do must not stop the others.
  set +e +o pipefail
  trap - ERR
  local start=$SECONDS
  delete_workloads
  local i
  for ((i = ${#COMPONENTS[@]} - 1; i >= 1; i--)); do stop_component "${COMPONENTS[i]}"; done
  kill_leftover_containers
  stop_component containerd
  kill_leftover_shims
  remove_mounts
  remove_netns
  remove_links
  remove_iptables
  remove_cgroups
  remove_host_paths
  restore_sysctls
  rm -rf "$STATE" "$RUN" /run/weir-buildah
  rm -f "$BASELINE"
  log "down in $((SECONDS - start))s: processes, mounts, network namespaces, links, iptables rules and sysctls restored"
}

status() {
  local c pid
  for c in "${COMPONENTS[@]}"; do
    if pid=$(pid_of "$c"); then printf '%-24s running (pid %s)\n' "$c" "$pid"; else printf '%-24s stopped\n' "$c"; fi
  done
  if pid_of kube-apiserver >/dev/null; then
    echo "KUBECONFIG=$STATE/admin.kubeconfig"
    kubectl get nodes -o wide
    kubectl get pods -A -o wide
    kubectl get gateway -A 2>/dev/null || true
  fi
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  preflight) preflight && log "preflight: the host has everything the cluster needs" ;;
  logs) echo "$LOGS" ;;
  *) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
