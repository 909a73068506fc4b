package audit

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/flowmask/flowmask/redactor/solution"
)

// entryName names a zip entry in findings: "archive.zip!/Workflows/x.json".
func entryName(zipName, entry string) string {
	return zipName + "!/" + strings.TrimPrefix(entry, "/")
}

// auditSolution audits a solution export's flows and environment variables.
func (a *Auditor) auditSolution(ctx context.Context, name string, zr *zip.Reader, opt Options) (*Report, error) {
	sol, err := solution.FromZip(zr)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, name, err)
	}
	rep := &Report{Kind: KindSolution}
	fixed := map[string][]byte{}
	for _, fl := range sol.Flows {
		fn := entryName(name, fl.Path)
		root, err := parseJSON(bytes.TrimPrefix(fl.Data, []byte("\xef\xbb\xbf")))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: parse JSON: %w", ErrInvalid, fn, err)
		}
		sub, err := a.auditJSON(ctx, fn, root, opt, fl.Name)
		if err != nil {
			return nil, err
		}
		rep.merge(sub)
		if sub.Fixed != nil {
			fixed[fl.Path] = sub.Fixed
		}
	}
	for _, v := range sol.EnvVars {
		a.checkEnvVar(ctx, name, v, rep)
	}
	if len(fixed) > 0 {
		if rep.Fixed, err = rewriteZip(zr, fixed); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return rep, ctx.Err()
}

func (r *Report) merge(o *Report) {
	r.Findings = append(r.Findings, o.Findings...)
	r.Changes = append(r.Changes, o.Changes...)
	r.Skipped = append(r.Skipped, o.Skipped...)
}

// checkEnvVar reports values stored for Secret-type variables and secrets
// in other variables' values and defaults.
func (a *Auditor) checkEnvVar(ctx context.Context, name string, v solution.EnvVar, rep *Report) {
	type stored struct {
		file, path, val string
		ok              bool
	}
	for _, s := range []stored{
		{v.DefinitionPath, "/environmentvariabledefinition/defaultvalue", v.DefaultValue, v.HasDefault && v.DefaultValue != ""},
		{v.ValuePath, "$.environmentvariablevalues.environmentvariablevalue", v.Value, v.HasValue && v.Value != ""},
	} {
		if !s.ok {
			continue
		}
		f := Finding{File: entryName(name, s.file), Flow: baseName(name), Path: s.path}
		if v.IsSecret() {
			f.Rule = RuleEnvSecretValue
			f.Message = fmt.Sprintf("Secret-type environment variable %q has a value stored in the export", v.SchemaName)
		} else {
			ids := detectValue(ctx, a.r, s.val, []seg{keySeg(v.SchemaName)}, false)
			if len(ids) == 0 {
				continue
			}
			f.Rule = RuleHardcodedSecret
			f.Message = fmt.Sprintf("secret (%s, %d-byte value) stored in %s environment variable %q", ruleList(ids), len(s.val), v.Type, v.SchemaName)
			f.Hint = "Make it a Secret-type (Key Vault) environment variable and remove the value from the export"
		}
		r := ruleByID(f.Rule)
		f.Severity = r.Severity
		if f.Hint == "" {
			f.Hint = r.Hint
		}
		rep.Findings = append(rep.Findings, f)
	}
}

// auditPackage audits the JSON entries of a zip that is not a solution
// (such as a Power Automate legacy export package).
func (a *Auditor) auditPackage(ctx context.Context, name string, zr *zip.Reader, opt Options) (*Report, error) {
	rep := &Report{}
	fixed := map[string][]byte{}
	for _, f := range zr.File {
		if !strings.EqualFold(path.Ext(f.Name), ".json") {
			continue
		}
		data, err := readEntry(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, name, err)
		}
		fn := entryName(name, f.Name)
		t := bytes.TrimLeft(data, " \t\r\n\xef\xbb\xbf")
		if len(t) == 0 || t[0] != '{' {
			continue
		}
		root, err := parseJSON(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
		if err != nil {
			continue // packages carry other JSON too; only definitions matter
		}
		sub, err := a.auditJSON(ctx, fn, root, opt, "")
		if err != nil {
			return nil, err
		}
		if sub.Kind == KindNone {
			continue
		}
		rep.Kind = KindPackage
		rep.merge(sub)
		if sub.Fixed != nil {
			fixed[f.Name] = sub.Fixed
		}
	}
	if len(fixed) > 0 {
		var err error
		if rep.Fixed, err = rewriteZip(zr, fixed); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return rep, ctx.Err()
}

// maxEntry caps an entry read from a zip.
const maxEntry = solution.MaxEntrySize

func readEntry(f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > maxEntry {
		return nil, fmt.Errorf("%s: entry of %d bytes exceeds the %d byte limit", f.Name, f.UncompressedSize64, maxEntry)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxEntry+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	if len(data) > maxEntry {
		return nil, fmt.Errorf("%s: entry exceeds the %d byte limit", f.Name, maxEntry)
	}
	return data, nil
}

// rewriteZip copies zr, replacing the entries in repl (by name); other
// entries are copied without recompression.
func rewriteZip(zr *zip.Reader, repl map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		data, ok := repl[f.Name]
		if !ok {
			if err := zw.Copy(f); err != nil {
				return nil, fmt.Errorf("copy %s: %w", f.Name, err)
			}
			continue
		}
		h := f.FileHeader
		h.Method = zip.Deflate
		w, err := zw.CreateHeader(&h)
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", f.Name, err)
		}
		if _, err := w.Write(data); err != nil {
			return nil, fmt.Errorf("write %s: %w", f.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("write zip: %w", err)
	}
	return buf.Bytes(), nil
}
