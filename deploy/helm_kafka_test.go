package deploy

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowmask/flowmask/deploy/internal/kcheck"
	"github.com/flowmask/flowmask/kafka"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// kafkaValues is the smallest kafka-mode install: a plain-text cluster
// inside the Kubernetes cluster, no SASL.
func kafkaValues() map[string]any {
	return map[string]any{
		"mode": "kafka",
		"kafka": map[string]any{
			"partitions": 6,
			"brokers":    []any{"kafka-0.kafka.streaming.svc:9092", "kafka-1.kafka.streaming.svc:9092"},
			"in":         "logs-raw",
			"out":        "logs-clean",
		},
		"autoscaling": map[string]any{"maxReplicas": 6},
	}
}

// with returns a deep copy of base with the dotted key set to v.
func with(base map[string]any, key string, v any) map[string]any {
	out := deepCopyMap(base)
	m := out
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
	return out
}

func deepCopyMap(in map[string]any) map[string]any {
	out := maps.Clone(in)
	for k, v := range out {
		if m, ok := v.(map[string]any); ok {
			out[k] = deepCopyMap(m)
		}
	}
	return out
}

// renderKafka renders vals, decodes and checks the output, and returns the
// objects, the one flowmask kafka container and the rendered files.
func renderKafka(t *testing.T, vals map[string]any) ([]kcheck.Object, *kcheck.Proxy, map[string]string) {
	t.Helper()
	out, err := render(t, loadChart(t), vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	objs := decodeRendered(t, out)
	ps, err := kcheck.Check(objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Kafka == nil || ps[0].Config != nil {
		t.Fatalf("want one flowmask kafka container, got %+v", ps)
	}
	return objs, ps[0], out
}

func find[T any](t *testing.T, objs []kcheck.Object) T {
	t.Helper()
	var found []T
	for _, o := range objs {
		if v, ok := o.Obj.(T); ok {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("want one %T, got %d", zero, len(found))
	}
	return found[0]
}

func TestHelmChartKafka(t *testing.T) {
	objs, p, out := renderKafka(t, valuesFile(t, "kafka-values.yaml"))

	// No Service: nothing sends to the pipeline; metrics through a PodMonitor.
	want := []string{"ConfigMap", "Deployment", "HorizontalPodAutoscaler", "NetworkPolicy", "PodDisruptionBudget", "PodMonitor", "ServiceAccount"}
	if got := kindsOf(objs); !reflect.DeepEqual(got, want) {
		t.Errorf("kinds %v; want %v", got, want)
	}

	d := find[*appsv1.Deployment](t, objs)
	ct := d.Spec.Template.Spec.Containers[0]
	if want := []string{"kafka", "--config", "/etc/flowmask/config.yaml"}; !slices.Equal(ct.Args, want) || len(ct.Command) != 0 {
		t.Errorf("command %v args %v; want args %v", ct.Command, ct.Args, want)
	}
	if len(ct.Ports) != 1 || ct.Ports[0].Name != "admin" || ct.Ports[0].ContainerPort != 9090 {
		t.Errorf("ports %+v; want only admin 9090", ct.Ports)
	}
	if lp, rp := ct.LivenessProbe, ct.ReadinessProbe; lp == nil || rp == nil || lp.HTTPGet == nil || rp.HTTPGet == nil ||
		lp.HTTPGet.Path != "/healthz" || rp.HTTPGet.Path != "/readyz" || lp.HTTPGet.Port.StrVal != "admin" || rp.HTTPGet.Port.StrVal != "admin" {
		t.Errorf("probes: liveness %+v readiness %+v", lp, rp)
	}
	// drainTimeout 40 in kafka-values.yaml.
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g <= 40 {
		t.Errorf("terminationGracePeriodSeconds %v; want > drainTimeout 40", g)
	}
	if ct.Lifecycle != nil {
		t.Errorf("lifecycle %+v: no preStop sleep without a Service", ct.Lifecycle)
	}
	if d.Annotations[kcheck.PartitionsAnnotation] != "8" {
		t.Errorf("annotations %v; want %s: \"8\"", d.Annotations, kcheck.PartitionsAnnotation)
	}

	// The rendered config.yaml, parsed by flowmask kafka's own loader.
	cm := find[*corev1.ConfigMap](t, objs)
	fc, err := kafka.ParseConfig("config.yaml", []byte(cm.Data["config.yaml"]))
	if err != nil {
		t.Fatalf("rendered config: %v\n%s", err, cm.Data["config.yaml"])
	}
	k := fc.Kafka
	if !slices.Equal(k.Brokers, []string{"contoso-logs.servicebus.windows.net:9093"}) || k.In != "diagnostics" || k.Out != "diagnostics-clean" ||
		k.Group != "flowmask" || k.DeadLetter != "diagnostics-dlq" || k.Format != "auto" || k.MaxRecord != 2097152 || k.ExactlyOnce ||
		k.SessionTimeout != 30*time.Second || k.DrainTimeout != 40*time.Second || k.Admin != "0.0.0.0:9090" {
		t.Errorf("kafka config not rendered as given: %+v", k)
	}
	if k.SASL.Mechanism != "plain" || k.SASL.Username != "$ConnectionString" || k.SASL.PasswordEnv != "" ||
		k.SASL.PasswordFile != "/var/run/secrets/flowmask/kafka/connection-string" {
		t.Errorf("sasl %+v", k.SASL)
	}
	if !k.UseTLS() || k.TLS.CA != "/etc/flowmask/kafka-ca/ca.pem" {
		t.Errorf("tls %+v", k.TLS)
	}
	if len(fc.Secrets.KeyVaults) != 1 || fc.Secrets.KeyVaults[0].URL != "https://contoso-kv.vault.azure.net" {
		t.Errorf("secrets %+v", fc.Secrets)
	}
	if !reflect.DeepEqual(p.Kafka, fc) {
		t.Errorf("kcheck read another config than the ConfigMap's")
	}

	// The password is a file from the Secret the user created.
	var sasl *corev1.Volume
	for i, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == "kafka-sasl" {
			sasl = &d.Spec.Template.Spec.Volumes[i]
		}
	}
	if sasl == nil || sasl.Secret == nil || sasl.Secret.SecretName != "eventhubs-connection" ||
		len(sasl.Secret.Items) != 1 || sasl.Secret.Items[0].Key != "connection-string" {
		t.Errorf("kafka-sasl volume %+v; want the Secret eventhubs-connection, key connection-string", sasl)
	}

	// HPA: CPU and consumer lag (External), at most the 8 partitions.
	h := find[*autoscalingv2.HorizontalPodAutoscaler](t, objs)
	if h.Spec.MaxReplicas != 8 || len(h.Spec.Metrics) != 2 || h.Spec.Metrics[0].Resource == nil || h.Spec.Metrics[1].External == nil ||
		h.Spec.Metrics[1].External.Metric.Name != "flowmask_kafka_consumer_lag" ||
		h.Spec.Metrics[1].External.Metric.Selector.MatchLabels["topic"] != "diagnostics" ||
		h.Spec.Metrics[1].External.Target.AverageValue.Value() != 5000 {
		t.Errorf("hpa %+v", h.Spec)
	}

	// Ingress: the admin port, from the monitoring namespace, only.
	np := find[*networkingv1.NetworkPolicy](t, objs)
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].Ports) != 1 || np.Spec.Ingress[0].Ports[0].Port.IntVal != 9090 ||
		np.Spec.Ingress[0].From[0].NamespaceSelector == nil {
		t.Errorf("network policy ingress %+v", np.Spec.Ingress)
	}

	notes := out["flowmask/templates/NOTES.txt"]
	for _, s := range []string{"(kafka mode)", "redacts topic diagnostics into diagnostics-clean", "create secret generic eventhubs-connection", "port-forward deploy/flowmask"} {
		if !strings.Contains(notes, s) {
			t.Errorf("NOTES.txt lacks %q:\n%s", s, notes)
		}
	}
}

// TestHelmChartKafkaDefaults: the least a user sets (brokers, topics,
// partitions) renders a checked pipeline with the documented defaults.
func TestHelmChartKafkaDefaults(t *testing.T) {
	objs, p, _ := renderKafka(t, kafkaValues())
	k := p.Kafka.Kafka
	if k.Group != "flowmask" || k.Format != "auto" || k.MaxRecord != kafka.DefaultMaxRecord || k.DeadLetter != "" ||
		k.SessionTimeout != kafka.DefaultSessionTimeout || k.DrainTimeout != kafka.DefaultDrainTimeout ||
		k.SASL.Mechanism != "" || k.UseTLS() || k.TLS.CA != "" {
		t.Errorf("defaults %+v", k)
	}
	d := find[*appsv1.Deployment](t, objs)
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name != "flowmask-config" {
			t.Errorf("volume %s without SASL, CA or known secrets", v.Name)
		}
	}
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g <= int64(kafka.DefaultDrainTimeout.Seconds()) {
		t.Errorf("terminationGracePeriodSeconds %v", g)
	}
	h := find[*autoscalingv2.HorizontalPodAutoscaler](t, objs)
	if len(h.Spec.Metrics) != 1 || h.Spec.Metrics[0].Resource == nil {
		t.Errorf("hpa metrics %+v; want CPU only by default (the lag metric needs an adapter)", h.Spec.Metrics)
	}
	if got := kindsOf(objs); slices.Contains(got, "Service") || slices.Contains(got, "PodMonitor") {
		t.Errorf("kinds %v: no Service, no monitor unless serviceMonitor.enabled", got)
	}

	// SASL oauth: no password, no Secret; workload identity carries it.
	vals := with(kafkaValues(), "kafka.sasl", map[string]any{"mechanism": "oauth"})
	vals["workloadIdentity"] = map[string]any{"enabled": true, "clientId": "11111111-2222-3333-4444-555555555555"}
	objs, p, _ = renderKafka(t, vals)
	if s := p.Kafka.Kafka.SASL; s.Mechanism != "oauth" || s.PasswordFile != "" || s.Username != "" || !p.Kafka.Kafka.UseTLS() {
		t.Errorf("oauth sasl %+v", s)
	}
	for _, v := range find[*appsv1.Deployment](t, objs).Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			t.Errorf("oauth: Secret volume %s", v.Name)
		}
	}

	// The chart's kafka objects are those of deploy/kubernetes/kafka.
	mobjs, err := readManifests(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	mk := map[string]bool{}
	for _, k := range kindsOf(mobjs) {
		mk[k] = true
	}
	for _, k := range kindsOf(objs) {
		if !mk[k] {
			t.Errorf("the chart renders a %s in kafka mode that deploy/kubernetes lacks", k)
		}
	}
}

// TestHelmChartKafkaNoSecretValue: the chart has no place for the SASL
// password. A password given as a value is refused, and the refusal does not
// echo it; the rendered objects hold no Secret and no inline env value.
func TestHelmChartKafkaNoSecretValue(t *testing.T) {
	const connStr = "Endpoint=sb://contoso-logs.servicebus.windows.net/;SharedAccessKeyName=flowmask-listen;SharedAccessKey=q7Vd2mXo9LkP3rTz8sWb4nYc1eHf6gJa0uIoQwErTyU="
	ch := loadChart(t)
	for _, key := range []string{"kafka.sasl.password", "kafka.sasl.passwordFile", "kafka.password"} {
		vals := with(with(kafkaValues(), "kafka.sasl.mechanism", "plain"), "kafka.sasl.username", "$ConnectionString")
		vals = with(vals, "kafka.sasl.existingSecret", "eventhubs-connection")
		_, err := render(t, ch, with(vals, key, connStr))
		if err == nil {
			t.Errorf("%s: a password value was accepted", key)
			continue
		}
		if strings.Contains(err.Error(), "SharedAccessKey=") || strings.Contains(err.Error(), "q7Vd2mXo9LkP3rTz8sWb4nYc1eHf6gJa0uIoQwErTyU") {
			t.Errorf("%s: the refusal echoes the password: %v", key, err)
		}
	}

	vals := with(kafkaValues(), "kafka.sasl", map[string]any{"mechanism": "scram-sha-512", "username": "flowmask", "existingSecret": "kafka-scram", "secretKey": "password"})
	objs, p, out := renderKafka(t, vals)
	if p.Kafka.Kafka.SASL.PasswordFile != "/var/run/secrets/flowmask/kafka/password" {
		t.Errorf("password_file %q", p.Kafka.Kafka.SASL.PasswordFile)
	}
	for _, o := range objs {
		if _, ok := o.Obj.(*corev1.Secret); ok {
			t.Errorf("%s: the chart renders a Secret", o.Source)
		}
	}
	d := find[*appsv1.Deployment](t, objs)
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name != "GOMEMLIMIT" {
			t.Errorf("env %s: want only GOMEMLIMIT", e.Name)
		}
	}
	for name, text := range out {
		if strings.Contains(strings.ToLower(text), "password:") {
			t.Errorf("%s holds a password key:\n%s", name, text)
		}
	}
}

// TestHelmChartKafkaRefuses: kafka-mode values that would break the pipeline
// or waste replicas fail to render, or fail the check, with a clear error.
func TestHelmChartKafkaRefuses(t *testing.T) {
	ch := loadChart(t)
	base := kafkaValues()
	tests := []struct {
		name string
		give map[string]any
		want string
	}{
		{"no partitions", with(base, "kafka.partitions", nil), "kafka.partitions is required in kafka mode"},
		{"zero partitions", with(base, "kafka.partitions", 0), "partitions"},
		{"replicas over partitions", with(with(base, "replicaCount", 7), "autoscaling.enabled", false), "replicaCount 7 exceeds kafka.partitions 6"},
		{"hpa over partitions", with(base, "autoscaling.maxReplicas", 10), "autoscaling.maxReplicas 10 exceeds kafka.partitions 6"},
		{"no brokers", with(base, "kafka.brokers", []any{}), "kafka.brokers"},
		{"no input topic", with(base, "kafka.in", ""), "kafka.in (the input topic) is required"},
		{"no group", with(base, "kafka.group", ""), "kafka.group"},
		{"same topics", with(base, "kafka.out", "logs-raw"), "kafka.out: must differ from in"},
		{"dead letter is the output", with(base, "kafka.deadLetter", "logs-clean"), "kafka.dead_letter: must differ from in and out"},
		{"bad broker", with(base, "kafka.brokers", []any{"kafka-0"}), "/kafka/brokers/0"},
		{"bad format", with(base, "kafka.format", "xml"), "format"},
		{"bad mechanism", with(base, "kafka.sasl.mechanism", "gssapi"), "mechanism"},
		{"sasl without secret", with(with(base, "kafka.sasl.mechanism", "plain"), "kafka.sasl.username", "u"), "kafka.sasl.existingSecret is required"},
		{"sasl without username", with(with(base, "kafka.sasl.mechanism", "scram-sha-256"), "kafka.sasl.existingSecret", "s"), "kafka.sasl.username is required"},
		{"no drain timeout", with(base, "kafka.drainTimeout", 0), "drainTimeout"},
		{"misspelt kafka value", with(base, "kafka.deadletter", "dlq"), "deadletter"},
		{"unknown mode", with(base, "mode", "stream"), "value must be one of 'fleet', 'sidecar', 'kafka'"},
		{"key vault without identity", with(base, "secrets", map[string]any{"keyvaults": []any{map[string]any{"url": "https://kv.vault.azure.net"}}}), "lacks the label azure.workload.identity/use"},
		{"no network policy", with(base, "networkPolicy.enabled", false), "no NetworkPolicy restricts ingress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := render(t, ch, tt.give)
			if err == nil {
				_, err = kcheck.Check(decodeRendered(t, out))
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v; want one containing %q", err, tt.want)
			}
		})
	}
}
