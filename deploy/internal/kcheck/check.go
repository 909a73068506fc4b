package kcheck

import (
	"errors"
	"fmt"
	"math"
	"net"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/flowmask/flowmask/internal/yamlconf"
	"github.com/flowmask/flowmask/kafka"
	"github.com/flowmask/flowmask/proxy"
	"github.com/flowmask/flowmask/proxy/forward"
	"github.com/flowmask/flowmask/redactor/secrets"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// The flowmask image's user and default config path (deploy/Dockerfile).
const (
	UID           = 65532
	DefaultConfig = "/etc/flowmask/config.yaml"
)

// Workload azure.workload.identity keys.
const (
	wiUseLabel      = "azure.workload.identity/use"
	wiClientIDAnnot = "azure.workload.identity/client-id"
)

// Proxy is one flowmask container found by Check, with its parsed config.
type Proxy struct {
	// Workload is "Kind/name" of the pod's owner.
	Workload string
	// Container is the container's name; Native is true for a native
	// sidecar (an init container with restartPolicy: Always).
	Container string
	Native    bool
	// Config is the proxy config read from the mounted ConfigMap, for a
	// container running `flowmask proxy`; nil for `flowmask kafka`.
	Config *proxy.Config
	// Kafka is the kafka config read from the mounted ConfigMap, for a
	// container running `flowmask kafka`; nil for `flowmask proxy`.
	Kafka *kafka.FileConfig
	// ListenPort and AdminPort are parsed from the config. A kafka
	// container has no listener: its ListenPort is 0.
	ListenPort, AdminPort int32
}

// PartitionsAnnotation on a Deployment running `flowmask kafka` states the
// input topic's partition count; Check refuses replicas (or an HPA's
// maxReplicas) above it, since the extra consumers would sit idle.
const PartitionsAnnotation = "flowmask.io/kafka-partitions"

// workload is a pod template and where it came from.
type workload struct {
	src, kind, ns, name string
	labels              map[string]string
	spec                *corev1.PodSpec
	minReplicas         int32
	// replicas is the Deployment's spec.replicas (1 when unset); partitions
	// its PartitionsAnnotation, 0 when absent.
	replicas, partitions int32
	proxies              []*Proxy
}

func (w *workload) id() string { return w.kind + "/" + w.name }

type checker struct {
	objs      []Object
	cms       map[string]*corev1.ConfigMap
	sas       map[string]*corev1.ServiceAccount
	workloads []*workload
	errs      []error
}

func (c *checker) errorf(src, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: %s", src, fmt.Sprintf(format, args...)))
}

// Check validates the invariants of a flowmask deployment across objs and
// returns every problem found, joined, plus the flowmask containers it
// checked. There must be at least one.
func Check(objs []Object) ([]*Proxy, error) {
	c := &checker{objs: objs, cms: map[string]*corev1.ConfigMap{}, sas: map[string]*corev1.ServiceAccount{}}
	hpaMin := map[string]int32{}
	for _, o := range objs {
		switch v := o.Obj.(type) {
		case *corev1.ConfigMap:
			c.cms[v.Namespace+"/"+v.Name] = v
		case *corev1.ServiceAccount:
			c.sas[v.Namespace+"/"+v.Name] = v
		case *autoscalingv2.HorizontalPodAutoscaler:
			if v.Spec.MinReplicas != nil {
				hpaMin[v.Namespace+"/"+v.Spec.ScaleTargetRef.Name] = *v.Spec.MinReplicas
			} else {
				hpaMin[v.Namespace+"/"+v.Spec.ScaleTargetRef.Name] = 1
			}
		case *corev1.Secret:
			if len(v.Data) > 0 || len(v.StringData) > 0 {
				c.errorf(o.Source, "Secret %s holds values inline; reference a Secret created outside the manifests", v.Name)
			}
		}
	}
	for _, o := range objs {
		c.checkMeta(o)
	}
	for _, o := range objs {
		var w *workload
		switch v := o.Obj.(type) {
		case *appsv1.Deployment:
			r := int32(1)
			if v.Spec.Replicas != nil {
				r = *v.Spec.Replicas
			}
			if m, ok := hpaMin[v.Namespace+"/"+v.Name]; ok {
				r = m
			}
			w = &workload{kind: "Deployment", ns: v.Namespace, name: v.Name, labels: v.Spec.Template.Labels, spec: &v.Spec.Template.Spec, minReplicas: r, replicas: 1}
			if v.Spec.Replicas != nil {
				w.replicas = *v.Spec.Replicas
			}
			if a, ok := v.Annotations[PartitionsAnnotation]; ok {
				n, err := strconv.ParseInt(a, 10, 32)
				if err != nil || n < 1 {
					c.errorf(o.Source, "Deployment/%s: annotation %s %q is not a partition count", v.Name, PartitionsAnnotation, a)
				} else {
					w.partitions = int32(n)
				}
			}
			c.checkSelector(o.Source, v.Spec.Selector, v.Spec.Template.Labels)
		case *appsv1.DaemonSet:
			w = &workload{kind: "DaemonSet", ns: v.Namespace, name: v.Name, labels: v.Spec.Template.Labels, spec: &v.Spec.Template.Spec, minReplicas: 1}
			c.checkSelector(o.Source, v.Spec.Selector, v.Spec.Template.Labels)
		case *corev1.Pod:
			w = &workload{kind: "Pod", ns: v.Namespace, name: v.Name, labels: v.Labels, spec: &v.Spec, minReplicas: 1}
		default:
			continue
		}
		w.src = o.Source
		c.workloads = append(c.workloads, w)
		c.checkPod(w)
	}
	var proxies []*Proxy
	for _, w := range c.workloads {
		proxies = append(proxies, w.proxies...)
	}
	if len(proxies) == 0 {
		c.errs = append(c.errs, errors.New("no flowmask container in any workload"))
	}
	for _, o := range objs {
		switch v := o.Obj.(type) {
		case *corev1.Service:
			c.checkService(o.Source, v)
		case *autoscalingv2.HorizontalPodAutoscaler:
			c.checkHPA(o.Source, v)
		case *policyv1.PodDisruptionBudget:
			c.checkPDB(o.Source, v)
		case *ServiceMonitor, *PodMonitor:
			c.checkMonitors(o.Source, v)
		}
	}
	for _, w := range c.workloads {
		if len(w.proxies) > 0 {
			c.checkNetworkPolicies(w)
		}
	}
	return proxies, errors.Join(c.errs...)
}

// checkMeta applies the API server's syntax rules for names and labels,
// which strict decoding alone does not.
func (c *checker) checkMeta(o Object) {
	acc, ok := o.Obj.(metav1.Object)
	if !ok {
		return
	}
	for _, msg := range validation.IsDNS1123Subdomain(acc.GetName()) {
		c.errorf(o.Source, "name %q: %s", acc.GetName(), msg)
	}
	for k, v := range acc.GetLabels() {
		for _, msg := range append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...) {
			c.errorf(o.Source, "label %s=%q: %s", k, v, msg)
		}
	}
	var spec *corev1.PodSpec
	switch v := o.Obj.(type) {
	case *appsv1.Deployment:
		spec = &v.Spec.Template.Spec
	case *appsv1.DaemonSet:
		spec = &v.Spec.Template.Spec
	case *corev1.Pod:
		spec = &v.Spec
	default:
		return
	}
	for _, ct := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		for _, msg := range validation.IsDNS1123Label(ct.Name) {
			c.errorf(o.Source, "container name %q: %s", ct.Name, msg)
		}
		for _, p := range ct.Ports {
			if p.Name == "" {
				continue
			}
			for _, msg := range validation.IsValidPortName(p.Name) {
				c.errorf(o.Source, "container %s: port name %q: %s", ct.Name, p.Name, msg)
			}
		}
	}
}

func (c *checker) checkSelector(src string, sel *metav1.LabelSelector, podLabels map[string]string) {
	if sel == nil || len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		c.errorf(src, "empty selector")
		return
	}
	if !matches(sel, podLabels) {
		c.errorf(src, "selector does not match the pod template's labels")
	}
}

func matches(sel *metav1.LabelSelector, l map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && !s.Empty() && s.Matches(labels.Set(l))
}

// IsFlowmaskImage reports whether image is a flowmask image
// (any registry, repository name "flowmask").
func IsFlowmaskImage(image string) bool {
	repo := image
	if i := strings.Index(repo, "@"); i >= 0 {
		repo = repo[:i]
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	return path.Base(repo) == "flowmask"
}

// pinned reports whether image names a digest or a tag other than latest.
func pinned(image string) bool {
	if strings.Contains(image, "@sha256:") {
		return true
	}
	last := image[strings.LastIndex(image, "/")+1:]
	i := strings.LastIndex(last, ":")
	return i >= 0 && last[i+1:] != "" && last[i+1:] != "latest"
}

var secretName = regexp.MustCompile(`(?i)token|passw|secret|key|credential`)

func (c *checker) checkPod(w *workload) {
	src := w.src + ": " + w.id()
	all := append(slices.Clone(w.spec.InitContainers), w.spec.Containers...)
	for i := range all {
		ct := &all[i]
		if !pinned(ct.Image) {
			c.errorf(src, "container %s: image %q is not pinned to a tag or digest", ct.Name, ct.Image)
		}
		for _, e := range ct.Env {
			if e.Value != "" && secretName.MatchString(e.Name) {
				c.errorf(src, "container %s: env %s has an inline value; use valueFrom.secretKeyRef", ct.Name, e.Name)
			}
		}
	}
	for i := range w.spec.InitContainers {
		ct := &w.spec.InitContainers[i]
		if IsFlowmaskImage(ct.Image) && len(ct.Args) > 0 && ct.Args[0] == "kafka" {
			c.errorf(src, "init container %s: flowmask kafka runs as a main container of a Deployment", ct.Name)
			continue
		}
		if IsFlowmaskImage(ct.Image) {
			native := ct.RestartPolicy != nil && *ct.RestartPolicy == corev1.ContainerRestartPolicyAlways
			if !native {
				c.errorf(src, "init container %s: flowmask must be a native sidecar (restartPolicy: Always)", ct.Name)
			}
			c.checkProxy(w, ct, native)
		}
	}
	for i := range w.spec.Containers {
		ct := &w.spec.Containers[i]
		switch {
		case IsFlowmaskImage(ct.Image) && len(ct.Args) > 0 && ct.Args[0] == "kafka":
			c.checkKafka(w, ct)
		case IsFlowmaskImage(ct.Image):
			c.checkProxy(w, ct, false)
		}
	}
}

// configPath returns the --config argument, or the image's default when the
// container keeps the image's CMD.
func configPath(ct *corev1.Container) (string, error) {
	if len(ct.Command) > 0 {
		return "", errors.New("command overrides the image's entrypoint; set args only")
	}
	if len(ct.Args) == 0 {
		return DefaultConfig, nil
	}
	if ct.Args[0] != "proxy" && ct.Args[0] != "kafka" {
		return "", fmt.Errorf("args start with %q, want proxy or kafka", ct.Args[0])
	}
	if ct.Args[0] == "kafka" {
		// Every setting lives in the config, where this check reads it.
		for _, a := range ct.Args[1:] {
			if strings.HasPrefix(a, "--") && a != "--config" && !strings.HasPrefix(a, "--config=") {
				return "", fmt.Errorf("arg %s: set kafka settings in the config, where this check reads them", a)
			}
		}
	}
	for i, a := range ct.Args {
		if a == "--config" && i+1 < len(ct.Args) {
			return ct.Args[i+1], nil
		}
		if v, ok := strings.CutPrefix(a, "--config="); ok {
			return v, nil
		}
		if a == "--listen" || a == "--admin" || strings.HasPrefix(a, "--listen=") || strings.HasPrefix(a, "--admin=") {
			return "", fmt.Errorf("arg %s: set addresses in the config, where this check reads them", a)
		}
	}
	return "", errors.New("no --config argument")
}

// mountFor returns the container's volume mount holding p (the longest
// match) and the volume behind it.
func mountFor(spec *corev1.PodSpec, ct *corev1.Container, p string) (*corev1.VolumeMount, *corev1.Volume) {
	var best *corev1.VolumeMount
	for i := range ct.VolumeMounts {
		m := &ct.VolumeMounts[i]
		mp := strings.TrimRight(m.MountPath, "/")
		if (p == mp || strings.HasPrefix(p, mp+"/")) && (best == nil || len(mp) > len(best.MountPath)) {
			best = m
		}
	}
	if best == nil {
		return nil, nil
	}
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == best.Name {
			return best, &spec.Volumes[i]
		}
	}
	return best, nil
}

func (c *checker) loadConfig(w *workload, ct *corev1.Container) (*proxy.Config, error) {
	name, data, err := c.configData(w, ct)
	if err != nil {
		return nil, err
	}
	cfg, err := proxy.ParseConfig(name, data)
	if err != nil {
		return nil, fmt.Errorf("proxy config: %w", err)
	}
	// A forward: section runs the forward proxy in the same process: it
	// must load too (proxy.ParseConfig leaves it to proxy/forward).
	if doc, err := yamlconf.Parse(name, data); err == nil && doc.Has("forward") {
		if _, err := forward.ParseForwardConfig(name, data); err != nil {
			return nil, fmt.Errorf("forward config: %w", err)
		}
	}
	return cfg, nil
}

// configData returns the config file's name (for errors) and content, read
// from the ConfigMap mounted at its path.
func (c *checker) configData(w *workload, ct *corev1.Container) (string, []byte, error) {
	cfgPath, err := configPath(ct)
	if err != nil {
		return "", nil, err
	}
	m, vol := mountFor(w.spec, ct, cfgPath)
	if m == nil || vol == nil || vol.ConfigMap == nil {
		return "", nil, fmt.Errorf("config %s is not on a mounted ConfigMap volume", cfgPath)
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(cfgPath, strings.TrimRight(m.MountPath, "/")), "/")
	if m.SubPath != "" {
		rel = m.SubPath
	}
	key := rel
	if len(vol.ConfigMap.Items) > 0 {
		key = ""
		for _, it := range vol.ConfigMap.Items {
			if it.Path == rel {
				key = it.Key
			}
		}
	}
	cm := c.cms[w.ns+"/"+vol.ConfigMap.Name]
	if cm == nil {
		return "", nil, fmt.Errorf("ConfigMap %s/%s is not among the manifests", w.ns, vol.ConfigMap.Name)
	}
	data, ok := cm.Data[key]
	if !ok || key == "" {
		return "", nil, fmt.Errorf("ConfigMap %s has no key for %s", cm.Name, cfgPath)
	}
	return "ConfigMap " + cm.Name + "/" + key, []byte(data), nil
}

func splitPort(addr string) (string, int32, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 {
		return "", 0, fmt.Errorf("%q: want a fixed port", addr)
	}
	return host, int32(n), nil
}

// checkAdmin checks the admin address (on, on every interface, a fixed
// port) and returns its port, 0 when it is unusable.
func (c *checker) checkAdmin(src, admin string) int32 {
	if admin == "off" {
		c.errorf(src, "admin is off: the probes need /healthz and /readyz")
		return 0
	}
	host, port, err := splitPort(admin)
	if err != nil {
		c.errorf(src, "admin: %v", err)
		return 0
	}
	if host != "" && host != "0.0.0.0" && host != "::" {
		c.errorf(src, "admin %s: bind 0.0.0.0 so the kubelet can probe the pod's address", admin)
	}
	return port
}

func hostOf(addr string) string {
	host, _, _ := net.SplitHostPort(addr)
	return host
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *checker) checkProxy(w *workload, ct *corev1.Container, native bool) {
	src := fmt.Sprintf("%s: %s container %s", w.src, w.id(), ct.Name)
	bad := func(format string, args ...any) { c.errorf(src, format, args...) }
	cfg, err := c.loadConfig(w, ct)
	if err != nil {
		bad("%v", err)
		return
	}
	p := &Proxy{Workload: w.id(), Container: ct.Name, Native: native, Config: cfg}
	listenHost, lp, err := splitPort(cfg.Listen)
	if err != nil {
		bad("listen: %v", err)
	}
	p.ListenPort = lp
	p.AdminPort = c.checkAdmin(src, cfg.Admin)
	w.proxies = append(w.proxies, p)

	// Ports.
	declared := map[int32]bool{}
	for _, cp := range ct.Ports {
		declared[cp.ContainerPort] = true
		if cp.ContainerPort != p.ListenPort && cp.ContainerPort != p.AdminPort {
			bad("containerPort %d (%s) is neither listen (%d) nor admin (%d)", cp.ContainerPort, cp.Name, p.ListenPort, p.AdminPort)
		}
	}
	for name, port := range map[string]int32{"listen": p.ListenPort, "admin": p.AdminPort} {
		if port != 0 && !declared[port] {
			bad("no containerPort for the config's %s port %d", name, port)
		}
	}

	c.checkProbes(src, ct, p.AdminPort)
	c.checkResources(src, ct)
	c.checkSecurity(src, w.spec, ct)
	c.checkShutdown(src, w.spec, ct, cfg, native)
	c.checkConfigFiles(src, w, ct, cfg)

	// Auth: a proxy reachable from outside its pod is no open relay.
	if err == nil && !isLoopback(listenHost) && !cfg.Auth.Enabled() && cfg.TLS.ClientCAFile == "" {
		bad("listen %s is reachable from other pods but auth is off (set auth.tokens_file or mTLS)", cfg.Listen)
	}
	if w.kind == "Deployment" && !cfg.Auth.Enabled() && cfg.TLS.ClientCAFile == "" {
		bad("fleet mode (Deployment) needs inbound auth")
	}

	c.checkKeyVaults(src, w, &cfg.Secrets)
}

// checkProbes: liveness on /healthz and readiness on /readyz (startup, if
// any, on either), over plain HTTP on the admin port.
func (c *checker) checkProbes(src string, ct *corev1.Container, adminPort int32) {
	bad := func(format string, args ...any) { c.errorf(src, format, args...) }
	probe := func(kind string, pr *corev1.Probe, want string) {
		if pr == nil {
			if kind != "startupProbe" {
				bad("no %s", kind)
			}
			return
		}
		if pr.HTTPGet == nil {
			bad("%s: want httpGet on the admin listener", kind)
			return
		}
		if pr.HTTPGet.Path != want && !(kind == "startupProbe" && pr.HTTPGet.Path == "/readyz") {
			bad("%s: path %q, want %s", kind, pr.HTTPGet.Path, want)
		}
		if port := containerPort(ct, pr.HTTPGet.Port); port != adminPort {
			bad("%s: port %s is not the admin port %d", kind, pr.HTTPGet.Port.String(), adminPort)
		}
		if pr.HTTPGet.Scheme == corev1.URISchemeHTTPS {
			bad("%s: the admin listener is plain HTTP", kind)
		}
	}
	probe("livenessProbe", ct.LivenessProbe, "/healthz")
	probe("readinessProbe", ct.ReadinessProbe, "/readyz")
	probe("startupProbe", ct.StartupProbe, "/healthz")
}

// checkResources: CPU and memory requests and limits are set.
func (c *checker) checkResources(src string, ct *corev1.Container) {
	bad := func(format string, args ...any) { c.errorf(src, format, args...) }
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := ct.Resources.Requests[r]; !ok || q.IsZero() {
			bad("no %s request", r)
		}
		if q, ok := ct.Resources.Limits[r]; !ok || q.IsZero() {
			bad("no %s limit", r)
		}
	}
}

// checkKeyVaults: Key Vault is read through Azure workload identity, so the
// pod carries its label and runs as a ServiceAccount with a client ID.
func (c *checker) checkKeyVaults(src string, w *workload, sc *secrets.Config) {
	bad := func(format string, args ...any) { c.errorf(src, format, args...) }
	if len(sc.KeyVaults) > 0 {
		if w.labels[wiUseLabel] != "true" {
			bad("secrets.keyvaults is set but the pod lacks the label %s: \"true\"", wiUseLabel)
		}
		sa := c.sas[w.ns+"/"+w.spec.ServiceAccountName]
		switch {
		case w.spec.ServiceAccountName == "" || w.spec.ServiceAccountName == "default":
			bad("secrets.keyvaults is set but the pod uses the default ServiceAccount")
		case sa == nil:
			bad("ServiceAccount %s is not among the manifests", w.spec.ServiceAccountName)
		case sa.Annotations[wiClientIDAnnot] == "":
			bad("ServiceAccount %s lacks the annotation %s", sa.Name, wiClientIDAnnot)
		}
	}
}

// containerPort resolves a probe or targetPort against ct's ports.
func containerPort(ct *corev1.Container, port intstr.IntOrString) int32 {
	if port.Type == intstr.Int {
		return port.IntVal
	}
	for _, cp := range ct.Ports {
		if cp.Name == port.StrVal {
			return cp.ContainerPort
		}
	}
	return 0
}

func (c *checker) checkSecurity(src string, spec *corev1.PodSpec, ct *corev1.Container) {
	bad := func(format string, args ...any) { c.errorf(src, format, args...) }
	ps := spec.SecurityContext
	if ps == nil {
		ps = &corev1.PodSecurityContext{}
	}
	cs := ct.SecurityContext
	if cs == nil {
		bad("no securityContext")
		return
	}
	nonRoot, uid, seccomp := ps.RunAsNonRoot, ps.RunAsUser, ps.SeccompProfile
	if cs.RunAsNonRoot != nil {
		nonRoot = cs.RunAsNonRoot
	}
	if cs.RunAsUser != nil {
		uid = cs.RunAsUser
	}
	if cs.SeccompProfile != nil {
		seccomp = cs.SeccompProfile
	}
	if nonRoot == nil || !*nonRoot {
		bad("runAsNonRoot is not true")
	}
	if uid == nil || *uid != UID {
		bad("runAsUser is not %d", UID)
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		bad("seccompProfile is not RuntimeDefault")
	}
	if cs.ReadOnlyRootFilesystem == nil || !*cs.ReadOnlyRootFilesystem {
		bad("readOnlyRootFilesystem is not true")
	}
	if cs.AllowPrivilegeEscalation == nil || *cs.AllowPrivilegeEscalation {
		bad("allowPrivilegeEscalation is not false")
	}
	if cs.Privileged != nil && *cs.Privileged {
		bad("privileged")
	}
	if cs.Capabilities == nil || !slices.Contains(cs.Capabilities.Drop, "ALL") {
		bad("capabilities do not drop ALL")
	} else if len(cs.Capabilities.Add) > 0 {
		bad("capabilities add %v", cs.Capabilities.Add)
	}
}

// checkShutdown: the grace period covers the preStop sleep plus the proxy's
// shutdown_timeout, so in-flight requests finish before SIGKILL.
func (c *checker) checkShutdown(src string, spec *corev1.PodSpec, ct *corev1.Container, cfg *proxy.Config, native bool) {
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if spec.TerminationGracePeriodSeconds != nil {
		grace = *spec.TerminationGracePeriodSeconds
	}
	var pre int64
	switch {
	case ct.Lifecycle != nil && ct.Lifecycle.PreStop != nil && ct.Lifecycle.PreStop.Sleep != nil:
		pre = ct.Lifecycle.PreStop.Sleep.Seconds
		if pre <= 0 {
			c.errorf(src, "preStop sleep of %d seconds", pre)
		}
	case ct.Lifecycle != nil && ct.Lifecycle.PreStop != nil && ct.Lifecycle.PreStop.Exec != nil:
		c.errorf(src, "preStop exec: the distroless image has no shell or sleep; use the sleep action")
	case native:
		// A native sidecar gets SIGTERM after the main containers exited.
	default:
		c.errorf(src, "no preStop sleep: SIGTERM would race the endpoint removal")
	}
	shutdown := int64(math.Ceil(cfg.Limits.ShutdownTimeout.Seconds()))
	if grace <= pre+shutdown {
		c.errorf(src, "terminationGracePeriodSeconds %d <= preStop %ds + shutdown_timeout %ds: in-flight requests would be killed", grace, pre, shutdown)
	}
}

// checkConfigFiles: every file the config names is on a mounted volume (the
// image holds only the binary), tokens come from Secrets, and the audit
// output is writable.
func (c *checker) checkConfigFiles(src string, w *workload, ct *corev1.Container, cfg *proxy.Config) {
	bad := func(format string, args ...any) { c.errorf(src, format, args...) }
	type file struct{ key, path string }
	var files []file
	add := func(key string, paths ...string) {
		for _, p := range paths {
			if p != "" {
				files = append(files, file{key, p})
			}
		}
	}
	add("auth.tokens_file", cfg.Auth.TokensFile)
	add("tls.cert_file", cfg.TLS.CertFile)
	add("tls.key_file", cfg.TLS.KeyFile)
	add("tls.client_ca_file", cfg.TLS.ClientCAFile)
	add("secrets.files", cfg.Secrets.Files...)
	add("secrets.dirs", cfg.Secrets.Dirs...)
	add("secrets.dotenv", cfg.Secrets.Dotenv...)
	add("secrets.solutions", cfg.Secrets.Solutions...)
	for i, rt := range cfg.Routes {
		p := fmt.Sprintf("routes[%d].", i)
		add(p+"workspace_key_file", rt.WorkspaceKeyFile)
		add(p+"rules", rt.Rules...)
		add(p+"upstream_tls.ca_file", rt.UpstreamTLS.CAFile)
	}
	for _, f := range files {
		m, vol := mountFor(w.spec, ct, f.path)
		if m == nil || vol == nil {
			bad("%s %s is on no mounted volume", f.key, f.path)
			continue
		}
		if f.key == "auth.tokens_file" && vol.Secret == nil && !projectsSecret(vol) {
			bad("auth.tokens_file %s: mount it from a Secret", f.path)
		}
	}
	if cfg.Auth.TokensEnv != "" {
		c.checkSecretEnv(src, ct, "auth.tokens_env", cfg.Auth.TokensEnv)
	}
	for _, name := range cfg.Secrets.Env {
		c.checkSecretEnv(src, ct, "secrets.env", name)
	}
	for i, rt := range cfg.Routes {
		if rt.WorkspaceKeyEnv != "" {
			c.checkSecretEnv(src, ct, fmt.Sprintf("routes[%d].workspace_key_env", i), rt.WorkspaceKeyEnv)
		}
	}
	switch out := cfg.Audit.Output; out {
	case "", "stderr", "stdout", "off":
	default:
		if m, vol := mountFor(w.spec, ct, out); m == nil || vol == nil || m.ReadOnly || vol.ConfigMap != nil || vol.Secret != nil {
			bad("audit.output %s is not on a writable volume (the root filesystem is read-only)", out)
		}
	}
}

func projectsSecret(v *corev1.Volume) bool {
	if v.Projected == nil {
		return false
	}
	for _, s := range v.Projected.Sources {
		if s.Secret != nil {
			return true
		}
	}
	return false
}

func (c *checker) checkSecretEnv(src string, ct *corev1.Container, key, name string) {
	for _, e := range ct.Env {
		if e.Name == name {
			if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
				c.errorf(src, "%s %s: set it from a Secret (valueFrom.secretKeyRef)", key, name)
			}
			return
		}
	}
	for _, ef := range ct.EnvFrom {
		if ef.SecretRef != nil {
			return // may come from the Secret; not resolvable here
		}
	}
	c.errorf(src, "%s %s: the container does not set it", key, name)
}

// selected returns the workloads in ns whose pod labels sel matches.
func (c *checker) selected(ns string, sel *metav1.LabelSelector) []*workload {
	var out []*workload
	for _, w := range c.workloads {
		if w.ns == ns && matches(sel, w.labels) {
			out = append(out, w)
		}
	}
	return out
}

func (c *checker) checkService(src string, s *corev1.Service) {
	src += ": Service/" + s.Name
	if len(s.Spec.Selector) == 0 {
		c.errorf(src, "empty selector")
		return
	}
	ws := c.selected(s.Namespace, &metav1.LabelSelector{MatchLabels: s.Spec.Selector})
	if len(ws) == 0 {
		c.errorf(src, "selector %v matches no pod template", s.Spec.Selector)
		return
	}
	for _, w := range ws {
		var ports []int32
		for _, sp := range s.Spec.Ports {
			tp := sp.TargetPort
			if tp.Type == intstr.Int && tp.IntVal == 0 {
				tp = intstr.FromInt32(sp.Port)
			}
			port := int32(0)
			for _, ct := range append(slices.Clone(w.spec.InitContainers), w.spec.Containers...) {
				if p := containerPort(&ct, tp); p != 0 && (tp.Type == intstr.String || hasPort(&ct, p)) {
					port = p
				}
			}
			if port == 0 {
				c.errorf(src, "port %s: targetPort %s is no container port of %s", sp.Name, tp.String(), w.id())
			}
			ports = append(ports, port)
		}
		for _, p := range w.proxies {
			if p.Kafka == nil && !slices.Contains(ports, p.ListenPort) {
				c.errorf(src, "no port targets flowmask's listen port %d in %s", p.ListenPort, w.id())
			}
		}
	}
}

func hasPort(ct *corev1.Container, p int32) bool {
	for _, cp := range ct.Ports {
		if cp.ContainerPort == p {
			return true
		}
	}
	return false
}

func (c *checker) checkHPA(src string, h *autoscalingv2.HorizontalPodAutoscaler) {
	src += ": HorizontalPodAutoscaler/" + h.Name
	ref := h.Spec.ScaleTargetRef
	var target *workload
	for _, w := range c.workloads {
		if w.kind == ref.Kind && w.name == ref.Name && w.ns == h.Namespace {
			target = w
		}
	}
	if ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || target == nil {
		c.errorf(src, "scaleTargetRef %s %s/%s is not a Deployment among the manifests", ref.APIVersion, ref.Kind, ref.Name)
		return
	}
	minR := int32(1)
	if h.Spec.MinReplicas != nil {
		minR = *h.Spec.MinReplicas
	}
	if minR < 1 || minR > h.Spec.MaxReplicas {
		c.errorf(src, "minReplicas %d, maxReplicas %d", minR, h.Spec.MaxReplicas)
	}
	if len(h.Spec.Metrics) == 0 {
		c.errorf(src, "no metrics")
	}
	if target.partitions > 0 && h.Spec.MaxReplicas > target.partitions {
		c.errorf(src, "maxReplicas %d exceeds the %d partitions of %s (annotation %s): the extra consumers would sit idle", h.Spec.MaxReplicas, target.partitions, target.id(), PartitionsAnnotation)
	}
	for _, m := range h.Spec.Metrics {
		if m.Resource == nil || m.Resource.Target.Type != autoscalingv2.UtilizationMetricType {
			continue
		}
		for _, ct := range target.spec.Containers {
			if _, ok := ct.Resources.Requests[m.Resource.Name]; !ok {
				c.errorf(src, "scales on %s utilization but container %s has no %s request", m.Resource.Name, ct.Name, m.Resource.Name)
			}
		}
	}
}

func (c *checker) checkPDB(src string, p *policyv1.PodDisruptionBudget) {
	src += ": PodDisruptionBudget/" + p.Name
	ws := c.selected(p.Namespace, p.Spec.Selector)
	if len(ws) == 0 {
		c.errorf(src, "selector matches no pod template")
		return
	}
	if (p.Spec.MinAvailable == nil) == (p.Spec.MaxUnavailable == nil) {
		c.errorf(src, "set exactly one of minAvailable and maxUnavailable")
		return
	}
	for _, w := range ws {
		if m := p.Spec.MinAvailable; m != nil && m.Type == intstr.Int && m.IntVal >= w.minReplicas {
			c.errorf(src, "minAvailable %d >= the %d replicas of %s: node drains would block", m.IntVal, w.minReplicas, w.id())
		}
		if m := p.Spec.MaxUnavailable; m != nil && m.Type == intstr.Int && m.IntVal < 1 {
			c.errorf(src, "maxUnavailable %d: node drains would block", m.IntVal)
		}
	}
}

// checkNetworkPolicies: the pods of w are selected by an ingress policy; the
// admin port, and the proxy port when it is not on loopback, are open only
// to selected peers, never to everyone.
func (c *checker) checkNetworkPolicies(w *workload) {
	src := w.src + ": " + w.id()
	var rules []networkingv1.NetworkPolicyIngressRule
	found := false
	for _, o := range c.objs {
		np, ok := o.Obj.(*networkingv1.NetworkPolicy)
		if !ok || np.Namespace != w.ns {
			continue
		}
		sel := np.Spec.PodSelector
		s, err := metav1.LabelSelectorAsSelector(&sel)
		if err != nil || !s.Matches(labels.Set(w.labels)) {
			continue
		}
		if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
			continue
		}
		found = true
		rules = append(rules, np.Spec.Ingress...)
	}
	if !found {
		c.errorf(src, "no NetworkPolicy restricts ingress to the flowmask pods")
		return
	}
	allows := func(r networkingv1.NetworkPolicyIngressRule, port int32, name string) bool {
		if len(r.Ports) == 0 {
			return true
		}
		for _, p := range r.Ports {
			if p.Port == nil || (p.Port.Type == intstr.Int && p.Port.IntVal == port) || (p.Port.Type == intstr.String && p.Port.StrVal == name) {
				return true
			}
		}
		return false
	}
	for _, p := range w.proxies {
		type port struct {
			what, name string
			n          int32
		}
		ports := []port{{"admin", "admin", p.AdminPort}}
		if p.Config != nil && !isLoopback(hostOf(p.Config.Listen)) {
			ports = append(ports, port{"proxy", "http", p.ListenPort})
		}
		for _, pt := range ports {
			open := false
			for _, r := range rules {
				if !allows(r, pt.n, pt.name) {
					continue
				}
				open = true
				if len(r.From) == 0 {
					c.errorf(src, "a NetworkPolicy rule opens the %s port %d to every source", pt.what, pt.n)
				}
				for _, peer := range r.From {
					if peer.IPBlock != nil && strings.HasSuffix(peer.IPBlock.CIDR, "/0") {
						c.errorf(src, "a NetworkPolicy rule opens the %s port %d to %s", pt.what, pt.n, peer.IPBlock.CIDR)
					}
				}
			}
			if !open {
				c.errorf(src, "no NetworkPolicy rule admits anyone to the %s port %d", pt.what, pt.n)
			}
		}
	}
}
