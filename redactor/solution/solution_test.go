package solution_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowmask/flowmask/redactor/solution"
)

// buildZip returns a zip holding files (name -> content).
func buildZip(t testing.TB, files [][2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(f[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const customizations = `<?xml version="1.0" encoding="utf-8"?>
<ImportExportXml xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <Workflows>
    <Workflow WorkflowId="{1f2e3d4c-0000-1111-2222-333344445555}" Name="Sync orders">
      <JsonFileName>/Workflows/SyncOrders-1F2E3D4C-0000-1111-2222-333344445555.json</JsonFileName>
      <Type>1</Type><Category>5</Category>
    </Workflow>
  </Workflows>
</ImportExportXml>`

const defSecret = `<environmentvariabledefinition schemaname="contoso_ApiSecret">
  <description default="Key Vault secret"/>
  <displayname default="API secret"><label description="API secret" languagecode="1033"/></displayname>
  <introducedversion>1.0.0.0</introducedversion><iscustomizable>1</iscustomizable><isrequired>0</isrequired>
  <secretstore>0</secretstore><type>100000005</type>
</environmentvariabledefinition>`

const defText = `<environmentvariabledefinition schemaname="contoso_ClientSecret">
  <defaultvalue>default-text</defaultvalue>
  <displayname default="Client secret"/>
  <type>100000000</type>
</environmentvariabledefinition>`

func testZip(t testing.TB) []byte {
	return buildZip(t, [][2]string{
		{"[Content_Types].xml", `<Types/>`},
		{"solution.xml", `<ImportExportXml/>`},
		{"customizations.xml", customizations},
		{"Workflows/SyncOrders-1F2E3D4C-0000-1111-2222-333344445555.json", `{"properties":{"definition":{}}}`},
		{"Workflows/Notify-AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE.json", `{"properties":{"definition":{"actions":{}}}}`},
		{"environmentvariabledefinitions/contoso_ApiSecret/environmentvariabledefinition.xml", defSecret},
		{"environmentvariabledefinitions/contoso_ApiSecret/environmentvariablevalues.json",
			`{"environmentvariablevalues":{"environmentvariablevalue":{"iscustomizable":"1","schemaname":"contoso_ApiSecret","value":"/subscriptions/x/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/secrets/api"}}}`},
		{"environmentvariabledefinitions/contoso_ClientSecret/environmentvariabledefinition.xml", defText},
		{"environmentvariabledefinitions/contoso_ClientSecret/environmentvariablevalues.json",
			`{"environmentvariablevalues":{"environmentvariablevalue":[{"schemaname":"contoso_ClientSecret","value":"text-value"},{"schemaname":"contoso_Orphan","value":42},{"schemaname":"contoso_Null","value":null}]}}`},
	})
}

func TestRead(t *testing.T) {
	data := testZip(t)
	s, err := solution.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Flows) != 2 {
		t.Fatalf("got %d flows; want 2", len(s.Flows))
	}
	if got, want := s.Flows[0].Name, "Sync orders"; got != want {
		t.Errorf("flow 0 name: got %q; want %q (from customizations.xml)", got, want)
	}
	if got, want := s.Flows[1].Name, "Notify"; got != want {
		t.Errorf("flow 1 name: got %q; want %q (file name minus GUID)", got, want)
	}
	if got, want := string(s.Flows[1].Data), `{"properties":{"definition":{"actions":{}}}}`; got != want {
		t.Errorf("flow 1 data: got %s; want %s", got, want)
	}
	want := []solution.EnvVar{
		{SchemaName: "contoso_ApiSecret", DisplayName: "API secret", Type: solution.TypeSecret,
			DefinitionPath: "environmentvariabledefinitions/contoso_ApiSecret/environmentvariabledefinition.xml",
			ValuePath:      "environmentvariabledefinitions/contoso_ApiSecret/environmentvariablevalues.json",
			Value:          "/subscriptions/x/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/secrets/api", HasValue: true},
		{SchemaName: "contoso_ClientSecret", DisplayName: "Client secret", Type: solution.TypeText,
			DefinitionPath: "environmentvariabledefinitions/contoso_ClientSecret/environmentvariabledefinition.xml",
			DefaultValue:   "default-text", HasDefault: true,
			ValuePath: "environmentvariabledefinitions/contoso_ClientSecret/environmentvariablevalues.json",
			Value:     "text-value", HasValue: true},
		{SchemaName: "contoso_Orphan",
			ValuePath: "environmentvariabledefinitions/contoso_ClientSecret/environmentvariablevalues.json",
			Value:     "42", HasValue: true},
	}
	if len(s.EnvVars) != len(want) {
		t.Fatalf("got %d env vars (%+v); want %d", len(s.EnvVars), s.EnvVars, len(want))
	}
	for i := range want {
		if s.EnvVars[i] != want[i] {
			t.Errorf("env var %d:\ngot  %+v\nwant %+v", i, s.EnvVars[i], want[i])
		}
	}
	if !s.EnvVars[0].IsSecret() || s.EnvVars[1].IsSecret() {
		t.Error("IsSecret: want true for the Secret type only")
	}
	if got := solution.TypeSecret.String(); got != "secret" {
		t.Errorf("TypeSecret.String() = %q", got)
	}
}

func TestOpen(t *testing.T) {
	name := filepath.Join(t.TempDir(), "sol.zip")
	if err := os.WriteFile(name, testZip(t), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := solution.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Flows) != 2 || len(s.EnvVars) != 3 {
		t.Errorf("got %d flows, %d env vars; want 2, 3", len(s.Flows), len(s.EnvVars))
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		give []byte
		is   error
	}{
		{name: "not a zip", give: []byte("hello")},
		{name: "other zip", give: buildZip(t, [][2]string{{"readme.txt", "hi"}}), is: solution.ErrNotSolution},
		{name: "bad values json", give: buildZip(t, [][2]string{
			{"environmentvariabledefinitions/a/environmentvariablevalues.json", `{"environmentvariablevalues":`}})},
		{name: "bad definition xml", give: buildZip(t, [][2]string{
			{"environmentvariabledefinitions/a/environmentvariabledefinition.xml", `<environmentvariabledefinition><type>`}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := solution.Read(bytes.NewReader(tt.give), int64(len(tt.give)))
			if err == nil {
				t.Fatal("got nil error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("got %v; want %v", err, tt.is)
			}
		})
	}
}

func TestDefinitionWithoutSchemaAttr(t *testing.T) {
	data := buildZip(t, [][2]string{
		{"environmentvariabledefinitions/x_Name/environmentvariabledefinition.xml", `<environmentvariabledefinition><type>100000005</type></environmentvariabledefinition>`}})
	s, err := solution.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.EnvVars) != 1 || s.EnvVars[0].SchemaName != "x_Name" || !s.EnvVars[0].IsSecret() {
		t.Errorf("got %+v; want one secret named x_Name (from the folder)", s.EnvVars)
	}
}

func FuzzRead(f *testing.F) {
	f.Add(testZip(f))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := solution.Read(bytes.NewReader(data), int64(len(data)))
		if err == nil && s == nil {
			t.Fatal("nil solution without error")
		}
	})
}
