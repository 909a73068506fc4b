// Package kcheck decodes Kubernetes manifests strictly into the k8s.io/api
// types and checks the invariants a flowmask deployment must keep: non-root,
// read-only root filesystem, probes on the admin listener, resources, ports
// consistent with the proxy config in the ConfigMap, pinned images, and
// selectors that match. The tests of deploy/kubernetes and of the Helm chart
// share it.
package kcheck

import (
	"bytes"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Object is one decoded manifest document.
type Object struct {
	// Source is "file#N", N counting documents from 1.
	Source string
	// Obj is a pointer to a k8s.io/api type, such as *appsv1.Deployment.
	Obj any
}

// kinds maps apiVersion/kind to a constructor of the typed object. A kind
// not listed is an error: every manifest must be checked.
var kinds = map[string]func() any{
	"v1/Namespace":                           func() any { return &corev1.Namespace{} },
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                              func() any { return &corev1.Secret{} },
	"v1/Service":                             func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                      func() any { return &corev1.ServiceAccount{} },
	"v1/Pod":                                 func() any { return &corev1.Pod{} },
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"apps/v1/DaemonSet":                      func() any { return &appsv1.DaemonSet{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/NetworkPolicy":     func() any { return &networkingv1.NetworkPolicy{} },
}

// Decode splits a multi-document YAML stream and decodes each non-empty
// document strictly: an unknown or duplicate field is an error, as is a
// kind this package does not know.
func Decode(name string, data []byte) ([]Object, error) {
	var objs []Object
	for i, doc := range splitDocs(data) {
		src := fmt.Sprintf("%s#%d", name, i+1)
		if isEmptyDoc(doc) {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		mk, ok := kinds[tm.APIVersion+"/"+tm.Kind]
		if !ok {
			return nil, fmt.Errorf("%s: unsupported kind %s/%s", src, tm.APIVersion, tm.Kind)
		}
		obj := mk()
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return nil, fmt.Errorf("%s: %s %s: %w", src, tm.Kind, nameOf(doc), err)
		}
		objs = append(objs, Object{Source: src, Obj: obj})
	}
	return objs, nil
}

// splitDocs splits on lines that are exactly "---" (YAML document markers).
func splitDocs(data []byte) [][]byte {
	var docs [][]byte
	var cur []byte
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if strings.TrimRight(string(line), " \t\r\n") == "---" {
			docs = append(docs, cur)
			cur = nil
			continue
		}
		cur = append(cur, line...)
	}
	return append(docs, cur)
}

func isEmptyDoc(doc []byte) bool {
	for _, line := range strings.Split(string(doc), "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

func nameOf(doc []byte) string {
	var m struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	yaml.Unmarshal(doc, &m) //nolint:errcheck // only for the message
	return m.Metadata.Name
}
