package kcheck

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ServiceMonitor, PodMonitor and PrometheusRule are the Prometheus
// Operator's custom resources (monitoring.coreos.com/v1), with the fields
// flowmask's chart uses, so that they decode strictly like the core kinds
// without the operator's Go module.
type ServiceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector NamespaceSelector    `json:"namespaceSelector"`
		Endpoints         []MetricsEndpoint    `json:"endpoints"`
	} `json:"spec"`
}

// PodMonitor scrapes pods directly (the chart's sidecar mode has no Service).
type PodMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector            metav1.LabelSelector `json:"selector"`
		NamespaceSelector   NamespaceSelector    `json:"namespaceSelector"`
		PodMetricsEndpoints []MetricsEndpoint    `json:"podMetricsEndpoints"`
	} `json:"spec"`
}

// NamespaceSelector picks the namespaces a monitor looks in.
type NamespaceSelector struct {
	Any        bool     `json:"any,omitempty"`
	MatchNames []string `json:"matchNames,omitempty"`
}

// MetricsEndpoint is one scrape target: a named port and a path.
type MetricsEndpoint struct {
	Port     string `json:"port"`
	Path     string `json:"path,omitempty"`
	Interval string `json:"interval,omitempty"`
}

// PrometheusRule holds rule groups in Prometheus's rule-file format.
type PrometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              RuleFile `json:"spec"`
}

// RuleFile is a Prometheus rule file (rule_files) and a PrometheusRule's spec.
type RuleFile struct {
	Groups []RuleGroup `json:"groups"`
}

// RuleGroup is a named list of rules.
type RuleGroup struct {
	Name     string `json:"name"`
	Interval string `json:"interval,omitempty"`
	Rules    []Rule `json:"rules"`
}

// Rule is an alerting or recording rule.
type Rule struct {
	Alert       string            `json:"alert,omitempty"`
	Record      string            `json:"record,omitempty"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func init() {
	kinds["monitoring.coreos.com/v1/ServiceMonitor"] = func() any { return &ServiceMonitor{} }
	kinds["monitoring.coreos.com/v1/PodMonitor"] = func() any { return &PodMonitor{} }
	kinds["monitoring.coreos.com/v1/PrometheusRule"] = func() any { return &PrometheusRule{} }
}

// checkMonitors checks that each ServiceMonitor selects a Service with the
// admin port it scrapes, and each PodMonitor a flowmask pod with it.
func (c *checker) checkMonitors(src string, obj any) {
	switch v := obj.(type) {
	case *ServiceMonitor:
		for _, ep := range v.Spec.Endpoints {
			found := false
			for _, o := range c.objs {
				svc, ok := o.Obj.(*corev1.Service)
				if !ok || svc.Namespace != v.Namespace || !matches(&v.Spec.Selector, svc.Labels) {
					continue
				}
				for _, p := range svc.Spec.Ports {
					found = found || p.Name == ep.Port
				}
			}
			if !found {
				c.errorf(src, "ServiceMonitor %s: no selected Service has a port named %q", v.Name, ep.Port)
			}
		}
	case *PodMonitor:
		for _, ep := range v.Spec.PodMetricsEndpoints {
			found := false
			for _, w := range c.workloads {
				if w.ns != v.Namespace || !matches(&v.Spec.Selector, w.labels) {
					continue
				}
				for _, ct := range append(append([]corev1.Container(nil), w.spec.InitContainers...), w.spec.Containers...) {
					for _, p := range ct.Ports {
						found = found || p.Name == ep.Port
					}
				}
			}
			if !found {
				c.errorf(src, "PodMonitor %s: no selected pod has a port named %q", v.Name, ep.Port)
			}
		}
	}
}
