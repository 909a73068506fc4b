package deploy

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/deploy/internal/kcheck"
)

// readManifests decodes every file of deploy/kubernetes/fleet,
// deploy/kubernetes/sidecar and deploy/kubernetes/kafka, with optional text edits applied first (file
// base name -> old -> new).
func readManifests(t *testing.T, edits map[string][2]string) ([]kcheck.Object, error) {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in kubernetes/*/: %v", err)
	}
	var all []kcheck.Object
	applied := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := edits[filepath.Base(f)]; ok {
			if !strings.Contains(string(data), e[0]) {
				t.Fatalf("%s: edit target %q not found", f, e[0])
			}
			data = []byte(strings.Replace(string(data), e[0], e[1], 1))
			applied++
		}
		objs, err := kcheck.Decode(f, data)
		if err != nil {
			return nil, err
		}
		all = append(all, objs...)
	}
	if applied != len(edits) {
		t.Fatalf("applied %d of %d edits", applied, len(edits))
	}
	return all, nil
}

func kindsOf(objs []kcheck.Object) []string {
	seen := map[string]bool{}
	for _, o := range objs {
		seen[reflect.TypeOf(o.Obj).Elem().Name()] = true
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestManifests(t *testing.T) {
	objs, err := readManifests(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	proxies, err := kcheck.Check(objs)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ConfigMap", "DaemonSet", "Deployment", "HorizontalPodAutoscaler", "Namespace", "NetworkPolicy", "PodDisruptionBudget", "Service", "ServiceAccount"}
	if got := kindsOf(objs); !reflect.DeepEqual(got, want) {
		t.Errorf("kinds %v; want %v", got, want)
	}
	var got []string
	for _, p := range proxies {
		got = append(got, p.Workload+"/"+p.Container)
	}
	if want := []string{"Deployment/flowmask/flowmask", "Deployment/flowmask-kafka/flowmask", "DaemonSet/fluent-bit/flowmask"}; !slices.Equal(got, want) {
		t.Errorf("flowmask containers %v; want %v", got, want)
	}
	for _, p := range proxies {
		if p.Workload == "Deployment/flowmask" && (len(p.Config.Secrets.KeyVaults) == 0 || !p.Config.Auth.Enabled()) {
			t.Errorf("fleet config: want Key Vault and inbound auth, got %+v %+v", p.Config.Secrets.KeyVaults, p.Config.Auth)
		}
		if p.Workload == "Deployment/flowmask-kafka" {
			k := p.Kafka
			if k == nil || p.Config != nil || p.AdminPort != 9090 || k.Kafka.In != "diagnostics" || k.Kafka.SASL.PasswordFile == "" || len(k.Secrets.KeyVaults) == 0 {
				t.Errorf("kafka config: want the Event Hubs pipeline with a password file and Key Vault, got %+v", k)
			}
		}
		if p.Native != (p.Workload == "DaemonSet/fluent-bit") {
			t.Errorf("%s: native sidecar %v", p.Workload, p.Native)
		}
	}
}

// TestManifestLayout keeps the three deployments apart, so that the
// documented `kubectl apply -f deploy/kubernetes/fleet/` applies the fleet and
// nothing else (no Fluent Bit DaemonSet, no kafka pipeline), and the sidecar
// and kafka examples stay on their own. The kafka files carry a kafka-
// prefix: the edits of TestManifestsBroken name files by base name.
func TestManifestLayout(t *testing.T) {
	if loose, _ := filepath.Glob("kubernetes/*.yaml"); len(loose) > 0 {
		t.Errorf("manifests directly under kubernetes/ (would be applied with either deployment): %v", loose)
	}
	want := map[string][]string{
		"fleet":   {"ConfigMap", "Deployment", "HorizontalPodAutoscaler", "Namespace", "NetworkPolicy", "PodDisruptionBudget", "Service", "ServiceAccount"},
		"sidecar": {"ConfigMap", "DaemonSet", "NetworkPolicy"},
		"kafka":   {"ConfigMap", "Deployment", "HorizontalPodAutoscaler", "Namespace", "NetworkPolicy", "PodDisruptionBudget", "ServiceAccount"},
	}
	seen := map[string]string{}
	all, _ := filepath.Glob("kubernetes/*/*.yaml")
	for _, f := range all {
		if other, dup := seen[filepath.Base(f)]; dup {
			t.Errorf("%s and %s share a base name", other, f)
		}
		seen[filepath.Base(f)] = f
	}
	if dirs, _ := filepath.Glob("kubernetes/*"); len(dirs) != len(want) {
		t.Errorf("kubernetes/ holds %v; want exactly %d directories", dirs, len(want))
	}
	for dir, kinds := range want {
		files, err := filepath.Glob(filepath.Join("kubernetes", dir, "*.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no manifests in kubernetes/%s: %v", dir, err)
		}
		var objs []kcheck.Object
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			o, err := kcheck.Decode(f, data)
			if err != nil {
				t.Fatal(err)
			}
			objs = append(objs, o...)
		}
		if got := kindsOf(objs); !reflect.DeepEqual(got, kinds) {
			t.Errorf("kubernetes/%s: kinds %v; want %v", dir, got, kinds)
		}
	}
}

// TestManifestsBroken proves the checks can fail: each edit breaks one
// invariant and Check (or Decode) must name it.
func TestManifestsBroken(t *testing.T) {
	tests := []struct {
		name string
		file string
		give [2]string
		want string
	}{
		{"unknown field", "deployment.yaml", [2]string{"revisionHistoryLimit: 5", "revisionHistoryLimt: 5"}, "unknown field"},
		{"root user", "deployment.yaml", [2]string{"            runAsUser: 65532", "            runAsUser: 0"}, "runAsUser is not 65532"},
		{"writable root", "deployment.yaml", [2]string{"readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"}, "readOnlyRootFilesystem is not true"},
		{"privilege escalation", "deployment.yaml", [2]string{"allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true"}, "allowPrivilegeEscalation"},
		{"capabilities kept", "deployment.yaml", [2]string{`drop: ["ALL"]`, `drop: ["NET_RAW"]`}, "drop ALL"},
		{"no seccomp", "sidecar.yaml", [2]string{"            seccompProfile:\n              type: RuntimeDefault", "            seccompProfile:\n              type: Unconfined"}, "seccompProfile is not RuntimeDefault"},
		{"readiness path", "deployment.yaml", [2]string{"httpGet: {path: /readyz, port: admin}", "httpGet: {path: /healthz, port: http}"}, "readinessProbe: path \"/healthz\", want /readyz"},
		{"probe port", "deployment.yaml", [2]string{"            httpGet: {path: /healthz, port: admin}\n            periodSeconds: 10", "            httpGet: {path: /healthz, port: 8080}\n            periodSeconds: 10"}, "livenessProbe: port 8080 is not the admin port 9090"},
		{"no memory limit", "deployment.yaml", [2]string{"              memory: 1Gi\n", ""}, "no memory limit"},
		{"container port", "deployment.yaml", [2]string{"containerPort: 8080", "containerPort: 8081"}, "no containerPort for the config's listen port 8080"},
		{"config listen port", "configmap.yaml", [2]string{"listen: 0.0.0.0:8080", "listen: 0.0.0.0:8443"}, "no containerPort for the config's listen port 8443"},
		{"admin on loopback", "configmap.yaml", [2]string{"admin: 0.0.0.0:9090", "admin: 127.0.0.1:9090"}, "bind 0.0.0.0"},
		{"auth off in fleet", "configmap.yaml", [2]string{"      tokens_file: /var/run/secrets/flowmask/tokens/tokens\n", ""}, "needs inbound auth"},
		{"invalid proxy config", "configmap.yaml", [2]string{"profile: splunk-hec", "profile: splunk"}, "unknown profile"},
		{"unknown proxy key", "configmap.yaml", [2]string{"log_level: info", "loglevel: info"}, "unknown key"},
		{"unpinned image", "deployment.yaml", [2]string{"flowmask:v0.1.0", "flowmask:latest"}, "is not pinned"},
		{"inline token", "deployment.yaml", [2]string{"            - name: GOMEMLIMIT\n              value: 900MiB", "            - name: FLOWMASK_TOKEN\n              value: hunter2hunter2"}, "inline value"},
		{"service selector", "service.yaml", [2]string{"  selector:\n    app.kubernetes.io/name: flowmask", "  selector:\n    app.kubernetes.io/name: flowmask-x"}, "matches no pod template"},
		{"service port", "service.yaml", [2]string{"targetPort: http", "targetPort: admin"}, "no port targets flowmask's listen port"},
		{"hpa target", "hpa.yaml", [2]string{"    name: flowmask", "    name: flowmasq"}, "is not a Deployment among the manifests"},
		{"pdb selector", "pdb.yaml", [2]string{"      app.kubernetes.io/instance: flowmask", "      app.kubernetes.io/instance: other"}, "PodDisruptionBudget/flowmask: selector matches no pod template"},
		{"pdb blocks drains", "pdb.yaml", [2]string{"maxUnavailable: 1", "minAvailable: 2"}, "node drains would block"},
		{"admin open", "networkpolicy.yaml", [2]string{"    - from:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: monitoring\n", "    - from: []\n"}, "opens the admin port 9090 to every source"},
		{"no preStop", "deployment.yaml", [2]string{"            preStop:\n              sleep:\n                seconds: 10\n", "            preStop:\n              exec:\n                command: [sleep, \"10\"]\n"}, "no shell"},
		{"short grace", "deployment.yaml", [2]string{"terminationGracePeriodSeconds: 45", "terminationGracePeriodSeconds: 30"}, "terminationGracePeriodSeconds 30 <= preStop 10s + shutdown_timeout 25s"},
		{"no workload identity label", "deployment.yaml", [2]string{`azure.workload.identity/use: "true"`, `azure.workload.identity/use: "false"`}, "lacks the label azure.workload.identity/use"},
		{"no client id", "serviceaccount.yaml", [2]string{"azure.workload.identity/client-id:", "azure.workload.identity/tenant-id:"}, "lacks the annotation azure.workload.identity/client-id"},
		{"tokens not from a Secret", "deployment.yaml", [2]string{"          secret:\n            secretName: flowmask-inbound-tokens\n            defaultMode: 0440", "          emptyDir: {}"}, "mount it from a Secret"},
		{"secret file unmounted", "configmap.yaml", [2]string{"dirs: [/var/run/secrets/flowmask/known]", "dirs: [/run/known]"}, "secrets.dirs /run/known is on no mounted volume"},
		{"proxy port open", "networkpolicy.yaml", [2]string{"    - from:\n        - namespaceSelector:\n            matchLabels:\n              flowmask.io/client: \"true\"\n", "    - from: []\n"}, "opens the proxy port 8080 to every source"},
		{"sidecar reachable without auth", "sidecar.yaml", [2]string{"listen: 127.0.0.1:8080", "listen: 0.0.0.0:8080"}, "reachable from other pods but auth is off"},
		{"inline Secret", "namespace.yaml", [2]string{"    pod-security.kubernetes.io/enforce: restricted\n", "    pod-security.kubernetes.io/enforce: restricted\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: t, namespace: flowmask}\nstringData: {tokens: hunter2hunter2}\n"}, "holds values inline"},
		{"bad name", "pdb.yaml", [2]string{"  name: flowmask\n", "  name: Flowmask_PDB\n"}, "name \"Flowmask_PDB\""},
		{"long port name", "deployment.yaml", [2]string{"- name: admin", "- name: admin-port-number"}, "port name \"admin-port-number\""},
		{"sidecar not native", "sidecar.yaml", [2]string{"          restartPolicy: Always\n", ""}, "must be a native sidecar"},
		// flowmask kafka (kubernetes/kafka).
		{"kafka invalid config", "kafka-configmap.yaml", [2]string{"out: diagnostics-clean", "out: diagnostics"}, "kafka.out: must differ from in"},
		{"kafka unknown key", "kafka-configmap.yaml", [2]string{"dead_letter: diagnostics-dlq", "deadletter: diagnostics-dlq"}, `config.yaml:11: kafka.deadletter: unknown key (did you mean "dead_letter"?)`},
		{"kafka admin off", "kafka-configmap.yaml", [2]string{"admin: 0.0.0.0:9090", "admin: \"off\""}, "admin is off"},
		{"kafka admin on loopback", "kafka-configmap.yaml", [2]string{"admin: 0.0.0.0:9090", "admin: 127.0.0.1:9090"}, "bind 0.0.0.0"},
		{"kafka short grace", "kafka-deployment.yaml", [2]string{"terminationGracePeriodSeconds: 45", "terminationGracePeriodSeconds: 30"}, "terminationGracePeriodSeconds 30 <= preStop 0s + drain_timeout 30s"},
		{"kafka readiness path", "kafka-deployment.yaml", [2]string{"httpGet: {path: /readyz, port: admin}", "httpGet: {path: /healthz, port: admin}"}, "readinessProbe: path \"/healthz\", want /readyz"},
		{"kafka no liveness", "kafka-deployment.yaml", [2]string{"          livenessProbe:\n            httpGet: {path: /healthz, port: admin}\n", "          livenessProbe:\n            tcpSocket: {port: admin}\n"}, "livenessProbe: want httpGet"},
		{"kafka traffic port", "kafka-deployment.yaml", [2]string{"          ports:\n", "          ports:\n            - {name: http, containerPort: 8080}\n"}, "containerPort 8080 (http) is not the admin port 9090"},
		{"kafka flags", "kafka-deployment.yaml", [2]string{`args: ["kafka", "--config", "/etc/flowmask/config.yaml"]`, `args: ["kafka", "--config", "/etc/flowmask/config.yaml", "--in", "other"]`}, "arg --in: set kafka settings in the config"},
		{"kafka password not from a Secret", "kafka-deployment.yaml", [2]string{"          secret:\n            secretName: eventhubs-connection\n            defaultMode: 0440", "          emptyDir: {}"}, "kafka.sasl.password_file /var/run/secrets/flowmask/kafka/connection-string: mount it from a Secret"},
		{"kafka password unmounted", "kafka-configmap.yaml", [2]string{"password_file: /var/run/secrets/flowmask/kafka/connection-string", "password_file: /run/eventhubs/connection-string"}, "kafka.sasl.password_file /run/eventhubs/connection-string is on no mounted volume"},
		{"kafka password env inline", "kafka-configmap.yaml", [2]string{"password_file: /var/run/secrets/flowmask/kafka/connection-string", "password_env: EVENTHUB_CONNECTION_STRING"}, "kafka.sasl.password_env EVENTHUB_CONNECTION_STRING: the container does not set it"},
		{"kafka no partitions", "kafka-deployment.yaml", [2]string{"    flowmask.io/kafka-partitions: \"8\"\n", ""}, "no annotation flowmask.io/kafka-partitions"},
		{"kafka replicas over partitions", "kafka-deployment.yaml", [2]string{"  replicas: 2\n", "  replicas: 9\n"}, "replicas 9 exceed the 8 partitions"},
		{"kafka hpa over partitions", "kafka-hpa.yaml", [2]string{"maxReplicas: 8", "maxReplicas: 12"}, "maxReplicas 12 exceeds the 8 partitions of Deployment/flowmask-kafka"},
		{"kafka bad partitions", "kafka-deployment.yaml", [2]string{`flowmask.io/kafka-partitions: "8"`, `flowmask.io/kafka-partitions: "eight"`}, "is not a partition count"},
		{"kafka shared transactional id", "kafka-configmap.yaml", [2]string{"exactly_once: false", "exactly_once: true\n      transactional_id: flowmask-1"}, "transactional_id \"flowmask-1\" is shared by 2 replicas"},
		{"kafka key vault without identity", "kafka-deployment.yaml", [2]string{`azure.workload.identity/use: "true"`, `azure.workload.identity/use: "false"`}, "lacks the label azure.workload.identity/use"},
		{"kafka admin open", "kafka-networkpolicy.yaml", [2]string{"    - from:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: monitoring\n", "    - from: []\n"}, "opens the admin port 9090 to every source"},
		{"kafka in a DaemonSet", "sidecar.yaml", [2]string{`args: ["proxy", "--config", "/etc/flowmask/config.yaml"]`, `args: ["kafka", "--config", "/etc/flowmask/config.yaml"]`}, "flowmask kafka runs as a main container of a Deployment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			objs, err := readManifests(t, map[string][2]string{tt.file: tt.give})
			if err == nil {
				_, err = kcheck.Check(objs)
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("got error %v; want one containing %q", err, want)
			}
		})
	}
}
