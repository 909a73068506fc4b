package forward

import (
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"github.com/flowmask/flowmask/proxy/audit"
	"github.com/flowmask/flowmask/proxy/sink"
	"github.com/flowmask/flowmask/redactor"
)

// DefaultAuditLogType is the Log-Type of azure-data-collector audit posts.
const DefaultAuditLogType = "FlowmaskForward"

func isAuditURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// auditProfiles are the sink profiles of an audit URL.
var auditProfiles = []string{sink.Generic, sink.SplunkHEC, sink.ElasticBulk, sink.LogsIngestion, sink.LokiJSON, sink.DataCollector}

// validateAuditSink checks the audit_* keys of c.
func (c *ForwardConfig) validateAuditSink() []error {
	var errs []error
	known := false
	for _, p := range auditProfiles {
		known = known || c.AuditProfile == p
	}
	if !known {
		return append(errs, ferr("forward.audit_profile", "unknown profile %q (want %s)", c.AuditProfile, strings.Join(auditProfiles, ", ")))
	}
	prof := c.AuditProfile
	isURL := isAuditURL(c.Audit)
	if prof != sink.Generic && !isURL {
		errs = append(errs, ferr("forward.audit_profile", "%s needs an http(s) URL in forward.audit, not %q", prof, c.Audit))
	}
	hasToken := c.AuditTokenFile != "" || c.AuditTokenEnv != ""
	if c.AuditTokenFile != "" && c.AuditTokenEnv != "" {
		errs = append(errs, ferr("forward.audit_token_env", "set audit_token_file or audit_token_env, not both"))
	}
	switch {
	case hasToken && (prof == sink.Generic || prof == sink.DataCollector):
		errs = append(errs, ferr("forward.audit_token_file", "%s takes no token", prof))
	case !hasToken && prof == sink.SplunkHEC:
		errs = append(errs, ferr("forward.audit_token_file", "splunk-hec needs the HEC token (audit_token_file or audit_token_env)"))
	}
	if prof == sink.LogsIngestion && isURL {
		if !strings.HasPrefix(c.Audit, "https://") {
			errs = append(errs, ferr("forward.audit", "azure-logs-ingestion sends a bearer token and needs an https URL"))
		} else if _, _, _, err := audit.ParseLogsIngestionURL(c.Audit); err != nil {
			errs = append(errs, ferr("forward.audit", "azure-logs-ingestion: %v", err))
		}
	}
	hasKey := c.AuditWorkspaceKeyFile != "" || c.AuditWorkspaceKeyEnv != ""
	if c.AuditWorkspaceKeyFile != "" && c.AuditWorkspaceKeyEnv != "" {
		errs = append(errs, ferr("forward.audit_workspace_key_env", "set audit_workspace_key_file or audit_workspace_key_env, not both"))
	}
	if prof == sink.DataCollector {
		if !hasKey {
			errs = append(errs, ferr("forward.audit_workspace_key_file", "azure-data-collector signs each post and needs the workspace key (audit_workspace_key_file or audit_workspace_key_env)"))
		}
		if c.AuditWorkspaceID == "" {
			errs = append(errs, ferr("forward.audit_workspace_id", "azure-data-collector needs the workspace ID"))
		}
		if !validLogType(c.AuditLogType) {
			errs = append(errs, ferr("forward.audit_log_type", "%q: want letters, digits and _, at most 100", c.AuditLogType))
		}
	} else if hasKey || c.AuditWorkspaceID != "" {
		errs = append(errs, ferr("forward.audit_workspace_id", "the workspace ID and key are for audit_profile azure-data-collector"))
	}
	return errs
}

func validLogType(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// loadAuditSink reads the sink credentials of cfg (validated) and returns
// the poster's configuration with the literals to mask. Nil when the
// audit destination is not an http(s) URL.
func loadAuditSink(cfg *ForwardConfig) (*audit.PosterConfig, []redactor.Literal, error) {
	if !isAuditURL(cfg.Audit) {
		return nil, nil, nil
	}
	pc := &audit.PosterConfig{URL: cfg.Audit, Profile: cfg.AuditProfile, WorkspaceID: cfg.AuditWorkspaceID, LogType: cfg.AuditLogType}
	if pc.Profile == sink.Generic || pc.Profile == "" {
		pc.Profile = sink.Generic
		return pc, nil, nil
	}
	var lits []redactor.Literal
	if cfg.AuditTokenFile != "" || cfg.AuditTokenEnv != "" {
		v, src, err := readAuditSecret(cfg.AuditTokenFile, cfg.AuditTokenEnv)
		if err != nil {
			return nil, nil, fmt.Errorf("forward.audit_token_file: %w", err)
		}
		pc.Token = v
		lits = append(lits, redactor.Literal{Source: src, Value: v})
	}
	if pc.Profile == sink.DataCollector {
		v, src, err := readAuditSecret(cfg.AuditWorkspaceKeyFile, cfg.AuditWorkspaceKeyEnv)
		if err != nil {
			return nil, nil, fmt.Errorf("forward.audit_workspace_key_file: %w", err)
		}
		key, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(key) == 0 {
			return nil, nil, fmt.Errorf("forward.audit_workspace_key_file: the key from %s is not base64", src)
		}
		pc.WorkspaceKey = key
		lits = append(lits, redactor.Literal{Source: src, Value: v})
	}
	return pc, lits, nil
}

// readAuditSecret reads a secret from a file (trimmed) or an environment
// variable; src names where it came from, never the value.
func readAuditSecret(file, env string) (val, src string, err error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", "", err
		}
		if v := strings.TrimSpace(string(b)); v != "" {
			return v, "file:" + file, nil
		}
		return "", "", fmt.Errorf("%s is empty", file)
	}
	v, ok := os.LookupEnv(env)
	if !ok || strings.TrimSpace(v) == "" {
		return "", "", fmt.Errorf("$%s is not set", env)
	}
	return strings.TrimSpace(v), "env:" + env, nil
}
