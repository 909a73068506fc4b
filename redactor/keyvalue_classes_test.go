package redactor_test

import (
	"testing"

	"github.com/flowmask/flowmask/patterns"
	"github.com/flowmask/flowmask/redactor"
)

// TestKeyValueClasses pins, as text, what the name/value parser masks and
// what it leaves: separators, declarations, prose, lists, boundaries, and
// the code, references, labels and placeholders that are not values.
func TestKeyValueClasses(t *testing.T) {
	r, err := redactor.New(redactor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ in, want string }{
		// Separators and declarations.
		{`if username == "jojoba" and password == "team10":`, `if username == "jojoba" and password == "[REDACTED:password]":`},
		{`if creds.Secret != 'open-sesame' {`, `if creds.Secret != '[REDACTED:client-secret]' {`},
		{`if (password === "Blue#Fox77") {`, `if (password === "[REDACTED:password]") {`},
		{`DB_PASSWORD ?= hunter2hunter2`, `DB_PASSWORD ?= [REDACTED:password]`},
		{`Password ::= "Zq8-vLr2mT"`, `Password ::= "[REDACTED:password]"`},
		{`Password :::= "Zq8-vLr2mT"`, `Password :::= "[REDACTED:password]"`},
		{`$db_password .= 'Tr0ub4dor9';`, `$db_password .= '[REDACTED:password]';`},
		{`var dbPassword string = "n0t-in-prod"`, `var dbPassword string = "[REDACTED:password]"`},
		{`const password: string = "Sup3r$ecret";`, `const password: string = "[REDACTED:password]";`},
		{`val apiToken: String = "tk_81fa9Qe2"`, `val apiToken: String = "[REDACTED:token]"`},
		{`admin password - 'Quartz#88'`, `admin password - '[REDACTED:password]'`},
		{`echo "The password is 'Secret123'"`, `echo "The password is '[REDACTED:password]'"`},
		{`Ensure the password for user 'postgres' is 'admin4pg' first`, `Ensure the password for user 'postgres' is '[REDACTED:password]' first`},
		{`access_token2=ya29.A0ARrdaM-9xQ`, `access_token2=[REDACTED:access-token]`},
		{`Connect-VIServer -Server vc01 -User administrator -Password VMware1!`, `Connect-VIServer -Server vc01 -User administrator -Password [REDACTED:password]`},
		// Lists.
		{`tokens = 'tk-A81x9q' | 'tk-B72y8r'`, `tokens = '[REDACTED:token]' | '[REDACTED:token]'`},
		{`api_keys: ["k1-9fQ2xA", "k2-7Lm3zB"]`, `api_keys: ["[REDACTED:api-key]", "[REDACTED:api-key]"]`},
		// Value boundaries.
		{`login failed, password: Correct&Horse9 retry`, `login failed, password: [REDACTED:password] retry`},
		{`user=bob&password=S3cret&next=/home`, `user=bob&password=[REDACTED:password]&next=/home`},
		{`password=%(name)s-realpart`, `password=[REDACTED:password]`},
		{`password: @Work(2023)#k`, `password: [REDACTED:password]`},
		// Code, references, labels and placeholders stay.
		{`const digest = hash(Buffer.concat([secret]))`, ``},
		{`pwd = System.getenv("DB_PWD")`, ``},
		{`fn login(user: String, token: String) -> bool`, ``},
		{`labels = ["User:", "Pass:", "Keep me signed in"]`, ``},
		{`secret: ${SMTP_PASS}`, ``},
		{`"apiKey": {"ref": "vault:kv/orders#apiKey"}`, ``},
		{`sb.append("MasterUserPassword: " + getMasterUserPassword() + ",");`, ``},
		{`echo 'password = '.$p['config']['daemon_password'];`, ``},
		{`password=%(db_password)s`, ``},
		{`GET /accounts/7/reset-password HTTP/1.1`, ``},
		{`put '/forgot-password' => "cms/sites/passwords#update"`, ``},
		{`password = process.env.DB_PASSWORD || "not-set"`, ``},
		{`password = env.PERKEEP_TEST_PASSWORD`, ``},
		{`AccountName={2};AccountKey={3};`, ``},
		{`SharedAccessKeyName=[Key name goes here];SharedAccessKey=[Shared Access key goes here];`, ``},
		{`let accountKey = $accountKey;`, ``},
		{`let accountKey = Buffer.from("accountKey", "base64");`, ``},
		{`this.addPassword = "#add-password";`, ``},
		{`IAMUserChangePassword = "arn:aws:iam::aws:policy/IAMUserChangePassword"`, ``},
		{`PASSWORD=$($(dirname $0)/../bin/get-setting DB_PASSWORD)`, ``},
		{`pwd = (char *) (p + ulen + 2);`, ``},
		{`text << "Password=#{password}, "`, ``},
		{`REACT_APP_FORGOT_PASSWORD=$REACT_APP_BASE_URL/classroom/#/forgot_password`, ``},
		{`{"password":"@parameters('dbPassword')"}`, ``},
		{`{"password":"@{body('Get_secret')?['value']}"}`, ``},
		{`token=<token>`, ``},
		{`Authorization: Bearer <token>`, ``},
		{`api_key=PUT_YOUR_API_KEY_HERE`, ``},
		{`api_key=sk_live_xxxxxxxxxxxxxxxxxxxx`, ``},
		{`password: "user:pass"`, ``},
		{`token: API-1234`, ``},
	}
	for _, c := range cases {
		want := c.want
		if want == "" {
			want = c.in
		}
		out, _ := r.Append(nil, []byte(c.in), redactor.FormatText)
		if string(out) != want {
			t.Errorf("\n  in   %s\n  got  %s\n  want %s", c.in, out, want)
		}
	}
}

func TestKeyValueMarkup(t *testing.T) {
	r, err := redactor.New(redactor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ in, want string }{
		{"<apiToken>\n    tk-81fa9Qe2Lm\n</apiToken>", "<apiToken>\n    [REDACTED:token]\n</apiToken>"},
		{"db:\n  password: >-\n    Corr3ct-H0rse\n  user: app\n", "db:\n  password: >-\n    [REDACTED:password]\n  user: app\n"},
		{"cert:\n  client_secret: |\n    line-one-Qx7\n    line-two-Rv2\nnext: 1\n", "cert:\n  client_secret: |\n    [REDACTED:client-secret]\n\nnext: 1\n"}, // the line count stays
		{"Ldap password ---- Xq9!vLr2", "Ldap password ---- [REDACTED:password]"},
		{"Password ........ Xq9!vLr2", "Password ........ [REDACTED:password]"},
		{"<password>\n</password>", ""},
		{"password: |\nnext: 1\n", ""},
		{"password -- reset it", ""},
	}
	for _, c := range cases {
		want := c.want
		if want == "" {
			want = c.in
		}
		out, _ := r.Append(nil, []byte(c.in), redactor.FormatText)
		if string(out) != want {
			t.Errorf("\n  in   %q\n  got  %q\n  want %q", c.in, out, want)
		}
	}
}

// TestValidatorsAgree checks that every validator patterns documents has
// a check here, and that each check is documented.
func TestValidatorsAgree(t *testing.T) {
	for name, spec := range patterns.Validators {
		arg := ""
		if spec.Arg {
			arg = ":8"
		}
		if _, err := redactor.Validate(name+arg, []byte("x")); err != nil {
			t.Errorf("validator %q is documented but not implemented: %v", name, err)
		}
	}
	if _, err := redactor.Validate("no-such-check", []byte("x")); err == nil {
		t.Error("an unknown validator was accepted")
	}
	for spec, secret := range map[string]string{
		"random":       "Zq8vT2mLx9Rk4Wp7Nc3BdF",
		"hex":          "3f9a1c0e",
		"base64-len:4": "AAECAw==",
	} {
		if ok, err := redactor.Validate(spec, []byte(secret)); err != nil || !ok {
			t.Errorf("Validate(%q, %q) = %v, %v; want true", spec, secret, ok, err)
		}
	}
	if ok, _ := redactor.Validate("random", []byte("orders/2024/01/file-00017.csv")); ok {
		t.Error("a path passed the randomness test")
	}
}

// TestKeyValueArguments pins names and values written as a setter call's
// arguments or as a subscript.
func TestKeyValueArguments(t *testing.T) {
	r, err := redactor.New(redactor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ in, want string }{
		{`System.setProperty("ACME_TOKEN", "tk-9Qm2Lx7Rv");`, `System.setProperty("ACME_TOKEN", "[REDACTED:token]");`},
		{`req.headers.Set("X-Api-Key", "k3y-8f2b9c1d");`, `req.headers.Set("X-Api-Key", "[REDACTED:api-key]");`},
		{`os.environ["API_KEY"] = 'k3y-8f2b9c1d'`, `os.environ["API_KEY"] = '[REDACTED:api-key]'`},
		{`config["password"] = "Pl4in-Text!"`, `config["password"] = "[REDACTED:password]"`},
		{`sender.Credentials = new NetworkCredential("ops@example.com", "vzihlaquknriqlht");`, `sender.Credentials = new NetworkCredential("ops@example.com", "[REDACTED:dotnet-network-credential]");`},
		{`key = os.getenv("API_KEY")`, ``},
		{`fields = ["password", "username"]`, ``},
		{`json.put("password", password);`, ``},
		{`os.environ["API_KEY"] = api_key`, ``},
		{`let accountKey = Buffer.from("accountKey", "base64");`, ``},
	}
	for _, c := range cases {
		want := c.want
		if want == "" {
			want = c.in
		}
		out, _ := r.Append(nil, []byte(c.in), redactor.FormatText)
		if string(out) != want {
			t.Errorf("\n  in   %s\n  got  %s\n  want %s", c.in, out, want)
		}
	}
}
