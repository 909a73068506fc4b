package redactor_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

func TestNameRule(t *testing.T) {
	r := def(t)
	for name, want := range map[string]string{
		"password": "password", "smtpPassword": "password", "DB_PASSWORD": "password",
		"X-Api-Key": "api-key", "Ocp-Apim-Subscription-Key": "api-key", "clientSecret": "client-secret",
		"Authorization": "authorization", "refresh_token": "access-token", "sig": "azure-sas-signature",
		"passwordPolicy": "", "partitionKey": "", "token_type": "", "message": "", "secretName": "",
		strings.Repeat("x", 200) + "password": "",
	} {
		id, ok := r.NameRule(name)
		if id != want || ok != (want != "") {
			t.Errorf("NameRule(%q) = %q, %v; want %q", name, id, ok, want)
		}
	}
}

// TestNameRuleAgreesWithJSON: NameRule says what the JSON walk does with a
// value under the same key, so front ends can ask it instead of building
// {"<name>":"<value>"} documents.
func TestNameRuleAgreesWithJSON(t *testing.T) {
	r := def(t)
	for _, name := range []string{"password", "pwd", "apiKey", "x-functions-key", "code", "sig", "cookie", "Set-Cookie",
		"access_token", "id_token", "token", "secret", "client_secret", "AccountKey", "primaryKey",
		"user", "name", "passwordPolicy", "keyType", "token_type", "secretName", "signature", "description", "path"} {
		doc, _ := json.Marshal(map[string]string{name: "k7Qx2mZp9LwV4tRb"})
		_, st := r.Append(nil, doc, redactor.FormatJSON)
		_, ok := r.NameRule(name)
		if ok != (st.Redactions > 0) {
			t.Errorf("%s: NameRule %v, JSON walk masked %d", name, ok, st.Redactions)
		}
	}
}

func TestAppendValue(t *testing.T) {
	r := def(t)
	cases := []struct {
		name, value, want string
	}{
		{"password", "Winter2024!x", "[REDACTED:password]"},
		{"Authorization", "Bearer k7Qx2mZp9LwV4tRbN3cY", "Bearer [REDACTED:authorization]"},
		{"password", "", ""},
		{"password", "@parameters('dbPassword')", "@parameters('dbPassword')"},
		{"message", "all fine, 200 OK", "all fine, 200 OK"},
		{"message", "login user=app password=S3cr3tP4ss9 ok", "login user=app password=[REDACTED:password] ok"},
		{"message", "password=Qw8nV3zL0pT6 and again Qw8nV3zL0pT6", "password=[REDACTED:password] and again [REDACTED:password]"},
		{"body", `{"user":"app","password":"abc12345xyz"}`, `{"user":"app","password":"[REDACTED:password]"}`},
	}
	for _, c := range cases {
		got, st := r.AppendValue([]byte("prefix:"), c.name, []byte(c.value))
		if string(got) != "prefix:"+c.want {
			t.Errorf("AppendValue(%q, %q) = %q; want %q", c.name, c.value, got, "prefix:"+c.want)
		}
		if changed := c.want != c.value; changed != (st.Redactions > 0) || st.Bytes != int64(len(c.value)) {
			t.Errorf("AppendValue(%q, %q): stats %+v", c.name, c.value, st)
		}
		again, _ := r.AppendValue(nil, c.name, []byte(c.want))
		if c.want != "" && !bytes.Equal(again, []byte(c.want)) {
			t.Errorf("AppendValue(%q) not idempotent: %q -> %q", c.name, c.want, again)
		}
	}
}

func TestScanValue(t *testing.T) {
	r := def(t)
	var fs []redactor.Finding
	st := r.ScanValue("note", []byte("ok\nretry with password=S3cr3tP4ss9"), func(f redactor.Finding) { fs = append(fs, f) })
	if st.Redactions != 1 || len(fs) != 1 {
		t.Fatalf("stats %+v, findings %+v", st, fs)
	}
	if f := fs[0]; f.Rule != "password" || f.Offset != 23 || f.Line != 2 || f.Column != 21 || f.Length != 11 || strings.Contains(f.Preview, "S3cr") {
		t.Errorf("finding %+v", f)
	}
	fs = nil
	r.ScanValue("clientSecret", []byte("x7Q8~aBcDeFgHiJkLmNo"), func(f redactor.Finding) { fs = append(fs, f) })
	if len(fs) != 1 || fs[0].Rule != "client-secret" || fs[0].Offset != 0 || fs[0].Length != 20 {
		t.Errorf("findings %+v", fs)
	}
}
