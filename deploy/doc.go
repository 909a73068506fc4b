// Package deploy holds the tests of flowmask's deployment files: the
// container image's build (smoke.sh), the Kubernetes manifests in
// kubernetes/fleet and kubernetes/sidecar, and the Helm chart in helm/flowmask. It is its own module so
// the Kubernetes and Helm libraries stay out of flowmask's go.mod.
package deploy
