package solution

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
)

// MaxEntrySize caps the uncompressed size of any one file read from a
// solution zip. A larger entry makes Read fail rather than exhaust memory.
const MaxEntrySize = 64 << 20

// ErrNotSolution is returned (wrapped) by Read when a zip holds none of the
// files of a solution export: no solution.xml, no customizations.xml, no
// Workflows/*.json and no environment variable definitions.
var ErrNotSolution = errors.New("not a Power Platform solution export")

// EnvVarType is an environment variable definition's type code
// (environmentvariabledefinition.xml <type>).
type EnvVarType int

// Environment variable type codes. Only Text and Secret are confirmed
// against public exports; the others come from third-party notes.
const (
	TypeText       EnvVarType = 100000000
	TypeDecimal    EnvVarType = 100000001
	TypeBoolean    EnvVarType = 100000002
	TypeJSON       EnvVarType = 100000003
	TypeDataSource EnvVarType = 100000004
	// TypeSecret is a Key Vault-backed variable; its value is the secret's
	// Key Vault resource path, not the secret itself.
	TypeSecret EnvVarType = 100000005
)

// String returns the type's name ("text", "secret", ...) or its code.
func (t EnvVarType) String() string {
	switch t {
	case TypeText:
		return "text"
	case TypeDecimal:
		return "decimal"
	case TypeBoolean:
		return "boolean"
	case TypeJSON:
		return "json"
	case TypeDataSource:
		return "datasource"
	case TypeSecret:
		return "secret"
	}
	return strconv.Itoa(int(t))
}

// Solution is the parsed content of a solution export.
type Solution struct {
	// Flows are the cloud flows, in zip entry order.
	Flows []Flow
	// EnvVars are the environment variables, sorted by SchemaName. A value
	// file without a definition still yields an entry (Type zero).
	EnvVars []EnvVar
}

// Flow is one cloud flow file of a solution.
type Flow struct {
	// Path is the zip entry name, such as "Workflows/Sync-1F2E....json".
	Path string
	// Name is the flow's display name from customizations.xml, or, when
	// absent, the file's base name without ".json" and the "-<GUID>" suffix.
	Name string
	// Data is the file's raw JSON: {"properties":{"definition":...}, ...}.
	Data []byte
}

// EnvVar is one environment variable: its definition and, when the export
// carries one, its current value.
type EnvVar struct {
	// SchemaName is the variable's unique name, such as "contoso_ApiKey".
	SchemaName string
	// DisplayName is the definition's default display name, if any.
	DisplayName string
	// Type is the definition's type code; zero when there is no definition.
	Type EnvVarType
	// DefinitionPath is the zip entry of environmentvariabledefinition.xml;
	// empty when there is none.
	DefinitionPath string
	// DefaultValue is the definition's <defaultvalue>; HasDefault says
	// whether the element was present (it may be empty).
	DefaultValue string
	HasDefault   bool
	// ValuePath is the zip entry of environmentvariablevalues.json holding
	// Value; empty when the export carries no value.
	ValuePath string
	// Value is the current value stored in the export; HasValue says
	// whether there was one.
	Value    string
	HasValue bool
}

// IsSecret reports whether the variable is of the Secret (Key Vault) type.
func (v EnvVar) IsSecret() bool { return v.Type == TypeSecret }

// Open reads the solution zip at name.
func Open(name string) (*Solution, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	s, err := Read(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// Read parses a solution zip of the given size. It fails on a corrupt zip,
// an entry larger than MaxEntrySize, a malformed definition or value file,
// and with ErrNotSolution on a zip that is not a solution export. Flow
// files are returned as they are, not parsed.
func Read(r io.ReaderAt, size int64) (*Solution, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("open zip: %w", err)
	}
	return FromZip(zr)
}

// IsSolution reports whether zr looks like a solution export (see
// ErrNotSolution).
func IsSolution(zr *zip.Reader) bool {
	for _, f := range zr.File {
		if kindOf(f.Name) != kindOther {
			return true
		}
	}
	return false
}

type entryKind int

const (
	kindOther entryKind = iota
	kindSolutionXML
	kindCustomizations
	kindFlow
	kindEnvDef
	kindEnvValue
)

func kindOf(name string) entryKind {
	n := strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(name, "\\", "/"), "/"))
	switch {
	case n == "solution.xml":
		return kindSolutionXML
	case n == "customizations.xml":
		return kindCustomizations
	case strings.HasPrefix(n, "workflows/") && strings.HasSuffix(n, ".json") && !strings.Contains(n[len("workflows/"):], "/"):
		return kindFlow
	case strings.HasPrefix(n, "environmentvariabledefinitions/") && strings.HasSuffix(n, "/environmentvariabledefinition.xml"):
		return kindEnvDef
	case strings.HasPrefix(n, "environmentvariabledefinitions/") && strings.HasSuffix(n, "/environmentvariablevalues.json"):
		return kindEnvValue
	}
	return kindOther
}

// FromZip parses an already opened solution zip; see Read.
func FromZip(zr *zip.Reader) (*Solution, error) {
	if !IsSolution(zr) {
		return nil, ErrNotSolution
	}
	s := &Solution{}
	names := map[string]string{} // lower-cased flow path -> display name
	vars := map[string]*EnvVar{}
	get := func(schema string) *EnvVar {
		k := strings.ToLower(schema)
		if v, ok := vars[k]; ok {
			return v
		}
		v := &EnvVar{SchemaName: schema}
		vars[k] = v
		return v
	}
	for _, f := range zr.File {
		kind := kindOf(f.Name)
		if kind == kindOther || kind == kindSolutionXML {
			continue
		}
		data, err := readEntry(f)
		if err != nil {
			return nil, err
		}
		switch kind {
		case kindCustomizations:
			// Names are a nicety: a customizations.xml we cannot read
			// leaves file-derived names.
			flowNames(data, names)
		case kindFlow:
			s.Flows = append(s.Flows, Flow{Path: f.Name, Data: data})
		case kindEnvDef:
			d, err := parseDefinition(data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
			if d.SchemaName == "" {
				d.SchemaName = path.Base(path.Dir(strings.ReplaceAll(f.Name, "\\", "/")))
			}
			v := get(d.SchemaName)
			v.DisplayName = d.DisplayName.Default
			if t, err := strconv.Atoi(strings.TrimSpace(d.Type)); err == nil {
				v.Type = EnvVarType(t)
			}
			v.DefinitionPath = f.Name
			if d.DefaultValue != nil {
				v.DefaultValue, v.HasDefault = *d.DefaultValue, true
			}
		case kindEnvValue:
			vals, err := parseValues(data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
			for _, ev := range vals {
				schema := ev.SchemaName
				if schema == "" {
					schema = path.Base(path.Dir(strings.ReplaceAll(f.Name, "\\", "/")))
				}
				v := get(schema)
				v.ValuePath, v.Value, v.HasValue = f.Name, ev.Value, true
			}
		}
	}
	for i := range s.Flows {
		fl := &s.Flows[i]
		key := strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(fl.Path, "\\", "/"), "/"))
		if n := names[key]; n != "" {
			fl.Name = n
		} else {
			fl.Name = nameFromFile(fl.Path)
		}
	}
	for _, v := range vars {
		s.EnvVars = append(s.EnvVars, *v)
	}
	sort.Slice(s.EnvVars, func(i, j int) bool { return s.EnvVars[i].SchemaName < s.EnvVars[j].SchemaName })
	return s, nil
}

func readEntry(f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > MaxEntrySize {
		return nil, fmt.Errorf("%s: entry of %d bytes exceeds the %d byte limit", f.Name, f.UncompressedSize64, MaxEntrySize)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	defer rc.Close()
	// The header's size can lie; never read more than the limit.
	data, err := io.ReadAll(io.LimitReader(rc, MaxEntrySize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	if len(data) > MaxEntrySize {
		return nil, fmt.Errorf("%s: entry exceeds the %d byte limit", f.Name, MaxEntrySize)
	}
	return data, nil
}

// nameFromFile turns "Workflows/Sync-Orders-1F2E3D4C-0000-1111-2222-333344445555.json"
// into "Sync-Orders".
func nameFromFile(p string) string {
	base := strings.TrimSuffix(path.Base(strings.ReplaceAll(p, "\\", "/")), path.Ext(p))
	if i := len(base) - 37; i > 0 && base[i] == '-' && isGUID(base[i+1:]) {
		return base[:i]
	}
	return base
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// flowNames adds customizations.xml's <Workflow Name="..."><JsonFileName>
// pairs to names, keyed by the lower-cased zip path.
func flowNames(data []byte, names map[string]string) {
	var doc struct {
		Workflows []struct {
			Name     string `xml:"Name,attr"`
			JSONFile string `xml:"JsonFileName"`
		} `xml:"Workflows>Workflow"`
	}
	if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return
	}
	for _, w := range doc.Workflows {
		p := strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(strings.TrimSpace(w.JSONFile), "\\", "/"), "/"))
		if p != "" && w.Name != "" {
			names[p] = w.Name
		}
	}
}

type definitionXML struct {
	SchemaName  string `xml:"schemaname,attr"`
	DisplayName struct {
		Default string `xml:"default,attr"`
	} `xml:"displayname"`
	Type         string  `xml:"type"`
	DefaultValue *string `xml:"defaultvalue"`
}

func parseDefinition(data []byte) (*definitionXML, error) {
	var d definitionXML
	if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&d); err != nil {
		return nil, fmt.Errorf("parse environment variable definition: %w", err)
	}
	return &d, nil
}

type valueJSON struct {
	SchemaName string
	Value      string
}

// parseValues reads {"environmentvariablevalues":{"environmentvariablevalue": X}}
// where X is one object or an array of them. A non-string value keeps its
// JSON text.
func parseValues(data []byte) ([]valueJSON, error) {
	var doc struct {
		Values struct {
			Value json.RawMessage `json:"environmentvariablevalue"`
		} `json:"environmentvariablevalues"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse environment variable values: %w", err)
	}
	raw := bytes.TrimSpace(doc.Values.Value)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []map[string]json.RawMessage
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, fmt.Errorf("parse environment variable values: %w", err)
		}
	} else {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, fmt.Errorf("parse environment variable values: %w", err)
		}
		items = append(items, one)
	}
	out := make([]valueJSON, 0, len(items))
	for _, it := range items {
		var v valueJSON
		v.SchemaName = str(it["schemaname"])
		rv, ok := it["value"]
		if !ok || string(bytes.TrimSpace(rv)) == "null" {
			continue
		}
		v.Value = str(rv)
		out = append(out, v)
	}
	return out, nil
}

// str returns a JSON string's value, or the raw JSON text of anything else.
func str(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return string(bytes.TrimSpace(raw))
}
