package kcheck

import (
	"fmt"
	"math"

	"github.com/flowmask/flowmask/kafka"
	corev1 "k8s.io/api/core/v1"
)

// checkKafka checks a container running `flowmask kafka`: its config (read
// from the mounted ConfigMap and validated by flowmask's own parser), the
// admin port and probes, the grace period against drain_timeout, where the
// SASL password and the CA come from, and the replica bound.
func (c *checker) checkKafka(w *workload, ct *corev1.Container) {
	src := fmt.Sprintf("%s: %s container %s", w.src, w.id(), ct.Name)
	bad := func(format string, args ...any) { c.errorf(src, format, args...) }
	if w.kind != "Deployment" {
		bad("flowmask kafka runs in a Deployment (a consumer group scaled by replicas), not a %s", w.kind)
	}
	name, data, err := c.configData(w, ct)
	if err != nil {
		bad("%v", err)
		return
	}
	cfg, err := kafka.ParseConfig(name, data)
	if err != nil {
		bad("kafka config: %v", err)
		return
	}
	k := &cfg.Kafka
	p := &Proxy{Workload: w.id(), Container: ct.Name, Kafka: cfg}
	p.AdminPort = c.checkAdmin(src, k.Admin)
	w.proxies = append(w.proxies, p)

	// Ports: the admin port only; nothing listens for traffic.
	declared := false
	for _, cp := range ct.Ports {
		if cp.ContainerPort == p.AdminPort {
			declared = true
		} else {
			bad("containerPort %d (%s) is not the admin port %d (flowmask kafka has no listener)", cp.ContainerPort, cp.Name, p.AdminPort)
		}
	}
	if p.AdminPort != 0 && !declared {
		bad("no containerPort for the config's admin port %d", p.AdminPort)
	}
	c.checkProbes(src, ct, p.AdminPort)
	c.checkResources(src, ct)
	c.checkSecurity(src, w.spec, ct)

	// Shutdown: SIGTERM drains within drain_timeout, after any preStop sleep.
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if w.spec.TerminationGracePeriodSeconds != nil {
		grace = *w.spec.TerminationGracePeriodSeconds
	}
	var pre int64
	if ct.Lifecycle != nil && ct.Lifecycle.PreStop != nil {
		switch {
		case ct.Lifecycle.PreStop.Sleep != nil:
			pre = ct.Lifecycle.PreStop.Sleep.Seconds
		case ct.Lifecycle.PreStop.Exec != nil:
			bad("preStop exec: the distroless image has no shell or sleep; use the sleep action")
		}
	}
	drain := int64(math.Ceil(k.DrainTimeout.Seconds()))
	if grace <= pre+drain {
		bad("terminationGracePeriodSeconds %d <= preStop %ds + drain_timeout %ds: the drain would be killed before it commits and leaves the group", grace, pre, drain)
	}

	// Files the config names are mounted; the password from a Secret.
	type file struct{ key, path string }
	var files []file
	add := func(key string, paths ...string) {
		for _, f := range paths {
			if f != "" {
				files = append(files, file{key, f})
			}
		}
	}
	add("kafka.sasl.password_file", k.SASL.PasswordFile)
	add("kafka.tls.ca", k.TLS.CA)
	add("secrets.files", cfg.Secrets.Files...)
	add("secrets.dirs", cfg.Secrets.Dirs...)
	add("secrets.dotenv", cfg.Secrets.Dotenv...)
	add("secrets.solutions", cfg.Secrets.Solutions...)
	for _, f := range files {
		m, vol := mountFor(w.spec, ct, f.path)
		if m == nil || vol == nil {
			bad("%s %s is on no mounted volume", f.key, f.path)
			continue
		}
		if f.key == "kafka.sasl.password_file" && vol.Secret == nil && !projectsSecret(vol) {
			bad("kafka.sasl.password_file %s: mount it from a Secret", f.path)
		}
	}
	if k.SASL.PasswordEnv != "" {
		c.checkSecretEnv(src, ct, "kafka.sasl.password_env", k.SASL.PasswordEnv)
	}
	for _, e := range cfg.Secrets.Env {
		c.checkSecretEnv(src, ct, "secrets.env", e)
	}
	if k.SASL.Mechanism == "oauth" && w.labels[wiUseLabel] != "true" {
		bad("kafka.sasl.mechanism oauth (Entra ID) but the pod lacks the label %s: \"true\"", wiUseLabel)
	}
	c.checkKeyVaults(src, w, &cfg.Secrets)

	// Replicas: one transactional ID is one producer; a consumer group gives
	// each partition to one member.
	if k.ExactlyOnce && k.TransactionalID != "" && !isDefaultTxnID(cfg) && w.replicas > 1 {
		bad("kafka.transactional_id %q is shared by %d replicas: each instance needs its own (leave it unset)", k.TransactionalID, w.replicas)
	}
	switch {
	case w.kind != "Deployment":
	case w.partitions == 0:
		bad("no annotation %s: state the input topic's partition count, which bounds the replicas", PartitionsAnnotation)
	case w.replicas > w.partitions:
		bad("replicas %d exceed the %d partitions (annotation %s): the extra consumers would sit idle", w.replicas, w.partitions, PartitionsAnnotation)
	}
}

// isDefaultTxnID reports whether the transactional ID is the per-process
// default that SetDefaults filled in (not set in the file).
func isDefaultTxnID(cfg *kafka.FileConfig) bool {
	probe := kafka.Config{Group: cfg.Kafka.Group, ExactlyOnce: true}
	probe.SetDefaults()
	return probe.TransactionalID == cfg.Kafka.TransactionalID
}
