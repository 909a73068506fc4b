package redactor_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// TestSuiteMissClasses pins the classes the held-back suites measurement
// (bench/cmd/suites, docs/detection.md) showed as missed: each case is
// redacted as text and compared whole ("" means left unchanged).
func TestSuiteMissClasses(t *testing.T) {
	r, err := redactor.New(redactor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ in, want string }{
		// Jenkins credentials.xml: the encrypted secret in braces.
		{"<secret>{AQAAABAAAAAQ0ZtMy1KjhNH7b8Xz4mqz3Q9ZkFt1q2w8QmYx0aJ5cN4=}</secret>",
			"<secret>{[REDACTED:client-secret]}</secret>"},
		{"  <password>{AQAAABAAAAAgR2t4Yk9xZ3ZmN0pIcGtMbXNEcWl3}</password>",
			"  <password>{[REDACTED:password]}</password>"},
		{"<secret>{acme AQAAABAAA 7xk2p9wq4mz8rt5vn3bc6yd1}</secret>",
			"<secret>{[REDACTED:client-secret]}</secret>"},
		{"<secret>{VAULT_SECRET}</secret>", ""},
		{"<secret>{{ .Values.secret }}</secret>", ""},
		{"<secret>{</secret>", ""},
		{"<id>{acme-prod}</id>", ""},
		// An XML element named by a longer credential name, its text on
		// the next line.
		{"<genericToken>\n    Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB\n</genericToken>",
			"<genericToken>\n    [REDACTED:token]\n</genericToken>"},
		{"<smtp_password>\n  Qm4zr-Ty8wL\n</smtp_password>",
			"<smtp_password>\n  [REDACTED:password]\n</smtp_password>"},
		{"<nextPageToken>\n  CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA\n</nextPageToken>", ""},
		{"<passwordPolicy>\n  strict\n</passwordPolicy>", ""},
		{"AccountName=<YOUR_ACCOUNT_NAME>;\nAccountKey=<YOUR_ACCOUNT_KEY>;\n", ""},
		// A Salesforce session id alone on a line, no context word.
		{"00D5e000000ABcd!AQ8AQJr2xZ9vK3mLp7QwEr5tYu1iO0pAsDfGhJkLzXcVbNm4Q2W6E8R0TyU3IoPaSdFgHjKlQwErTy.Zm1Kp8sVb4Nq\n",
			"[REDACTED:salesforce-access-token]\n"},
		{"body { color: red !important; } if (!ok) return; sha=00d5e000000abcd1a2b3c4d5e6f7 done!ok\n", ""},
		// Kubernetes Secret stringData: every value, any key name, block
		// scalars line by line; the block ends at the first line indented
		// no deeper than stringData:.
		{"kind: Secret\nmetadata:\n  name: app\nstringData:\n  plain: hello-world-value\n  config.yaml: |\n    endpoint: https://x\n    Zq8vT2mLx9Rk4Wp7\n---\nkind: ConfigMap\nmetadata:\n  name: cfg\n",
			"kind: Secret\nmetadata:\n  name: app\nstringData:\n  plain: [REDACTED:kubernetes-secret-string-data]\n  config.yaml: |\n    endpoint: [REDACTED:kubernetes-secret-string-data]\n    [REDACTED:kubernetes-secret-string-data]\n---\nkind: ConfigMap\nmetadata:\n  name: cfg\n"},
		// A literal compared with the credential name, before it.
		{`if ("Qm4zr-Ty8wL" == password) {`, `if ("[REDACTED:password]" == password) {`},
		{`if ('Hx7vQ2mLz9Kp' !== my_super_password) {`, `if ('[REDACTED:password]' !== my_super_password) {`},
		{`if (x == password) {`, ""},
		{`if (s == "password") return`, ""},
		{`assert "" == secret`, ""},
		{`if ("strict" == passwordPolicy) {`, ""},
		// A call named by the credential word, one quoted argument; a
		// directive (name "value";).
		{`ds = builder.username("sa").password("Qm4zr-Ty8wL").build();`, `ds = builder.username("sa").password("[REDACTED:password]").build();`},
		{`std::string secret("Hx7vQ2mLz9Kp");`, `std::string secret("[REDACTED:client-secret]");`},
		{`key "rndc" { algorithm hmac-sha256; secret "c2VjcmV0LWtleS1mb3Itcm5kYw=="; };`, `key "rndc" { algorithm hmac-sha256; secret "[REDACTED:client-secret]"; };`},
		{`password "Qm4zr-Ty8wL";`, `password "[REDACTED:password]";`},
		{`pw := prompt.password("Enter your password: ")`, ""},
		{`if err := checkPassword("x"); err != nil {`, ""},
		{`validatePassword(password)`, ""},
		// An unsigned JWT (alg none): two parts, no trailing dot.
		{"token eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiI2OTMzNTcyIiwicm9sZSI6ImFkbWluIn0 end", "token [REDACTED:jwt] end"},
		{"eyJAAAA.eyJBBB", ""},
		// curl -u over continued lines, a quoted password, an empty user.
		{"$ curl https://api.example.com/oauth2/token \\\n  --user c28wlsosanujy2z:qgsnai0xokrw4j1 --data grant_type=authorization_code",
			"$ curl https://api.example.com/oauth2/token \\\n  --user c28wlsosanujy2z:[REDACTED:curl-user-password] --data grant_type=authorization_code"},
		{"curl --user kevin:'pRf7vG2h1L8nQkW9' -X PATCH", "curl --user kevin:'[REDACTED:curl-user-password]' -X PATCH"},
		{"curl -s https://x.example.com/\nuser=-u admin:hunter2222", ""},
		// C# verbatim / Objective-C string literals.
		{`NSString *apiKey = @"9fQ2xA7Lm3zBk1Rt5Wv8";`, `NSString *apiKey = @"[REDACTED:api-key]";`},
		{`password = @"Qm4!zr-Ty8wL";`, `password = @"[REDACTED:password]";`},
		{`mail to user@"example"`, ""},
		{`password = @parameters('dbPassword')`, ""},
	}
	for _, c := range cases {
		out, _ := r.Append(nil, []byte(c.in), redactor.FormatText)
		want := c.want
		if want == "" {
			want = c.in
		}
		if string(out) != want {
			t.Errorf("%q\n got %q\nwant %q", c.in, out, want)
		}
	}
}

// TestSchemeAlone: an Authorization value that is only a scheme word and
// blanks ("Bearer " + token in code) holds no credential and stays, in
// text, in JSON and through the named-value API; a scheme with a
// credential after it is still masked.
func TestSchemeAlone(t *testing.T) {
	r, err := redactor.New(redactor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in, want string
		f        redactor.Format
	}{
		{`req.Header.Set("Authorization", "Bearer " + token)`, "", redactor.FormatText},
		{`headers = {"Authorization": "Basic " + b64}`, "", redactor.FormatText},
		{`{"Authorization":"Bearer "}`, "", redactor.FormatJSON},
		{`req.Header.Set("Authorization", "Bearer q8Zr2mK4vT9xLp3N")`, `req.Header.Set("Authorization", "Bearer [REDACTED:authorization]")`, redactor.FormatText},
		{`{"Authorization":"Bearer q8Zr2mK4vT9xLp3N"}`, `{"Authorization":"Bearer [REDACTED:authorization]"}`, redactor.FormatJSON},
		{`{"Authorization":"q8Zr2mK4vT9xLp3N "}`, `{"Authorization":"[REDACTED:authorization]"}`, redactor.FormatJSON},
	}
	for _, c := range cases {
		out, _ := r.Append(nil, []byte(c.in), c.f)
		want := c.want
		if want == "" {
			want = c.in
		}
		if string(out) != want {
			t.Errorf("%q\n got %q\nwant %q", c.in, out, want)
		}
	}
	if out, _ := r.AppendValue(nil, "Authorization", []byte("Bearer ")); string(out) != "Bearer " {
		t.Errorf("AppendValue(Authorization, %q) = %q", "Bearer ", out)
	}
	if out, _ := r.AppendValue(nil, "Authorization", []byte("Bearer q8Zr2mK4vT9xLp3N")); string(out) == "Bearer q8Zr2mK4vT9xLp3N" {
		t.Errorf("AppendValue kept the token: %q", out)
	}
}

// TestParamRule: the name API for URL parameters knows the names that
// count only there (signatures, session ids, short password names), and
// NameRule, for JSON keys, still does not.
func TestParamRule(t *testing.T) {
	r, err := redactor.New(redactor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"X-Amz-Signature": "url-credential", "X-Goog-Signature": "url-credential", "Signature": "url-credential",
		"JSESSIONID": "url-credential", "sid": "url-credential",
		"sig": "azure-sas-signature", "pw": "password-short", "pass": "password-short",
		"pwd": "password", "password": "password", "code": "azure-functions-key",
	} {
		if got, ok := r.ParamRule(name); !ok || got != want {
			t.Errorf("ParamRule(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"page", "q", "signatureAlgorithm", "side"} {
		if got, ok := r.ParamRule(name); ok {
			t.Errorf("ParamRule(%q) = %q; want none", name, got)
		}
	}
	for _, name := range []string{"signature", "sid", "pw", "jsessionid"} {
		if got, ok := r.NameRule(name); ok {
			t.Errorf("NameRule(%q) = %q; want none (a JSON key of that name is data)", name, got)
		}
	}
}

// TestBase64JSONInOrdinaryField: base64 of a JSON object in any string
// field is opened; the credential inside is masked and the value
// re-encoded, and a clean one (a pagination cursor) stays byte for byte.
func TestBase64JSONInOrdinaryField(t *testing.T) {
	r, err := redactor.New(redactor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "Vb7nQz2xKm9wLt4r" // generated, fake
	blob := base64.StdEncoding.EncodeToString([]byte(`{"user":"svc","password":"` + pw + `"}`))
	in := `{"ctx":"` + blob + `","n":1}`
	out, _ := r.Append(nil, []byte(in), redactor.FormatJSON)
	var doc struct{ Ctx string }
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("output is not JSON: %s", out)
	}
	dec, err := base64.StdEncoding.DecodeString(doc.Ctx)
	if err != nil || strings.Contains(string(dec), pw) || !strings.Contains(string(dec), `"user":"svc"`) {
		t.Errorf("decoded value %q (err %v)", dec, err)
	}
	cursor := `{"next":"` + base64.StdEncoding.EncodeToString([]byte(`{"page":2,"sort":"createdAt"}`)) + `"}`
	if out, _ := r.Append(nil, []byte(cursor), redactor.FormatJSON); string(out) != cursor {
		t.Errorf("clean cursor changed: %s", out)
	}
}
