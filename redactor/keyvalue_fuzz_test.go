package redactor_test

import (
	"bytes"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// FuzzKeyValueText fuzzes the name/value parser through text redaction: no
// panic, the canary never survives, and redacting the output again
// changes nothing.
func FuzzKeyValueText(f *testing.F) {
	for _, s := range []string{
		`if username == "jojoba" and password == "team10":`,
		`const password: string = "Sup3r$ecret";`,
		`echo "The password is 'Secret123'"`,
		`tokens = 'tk-A81x9q' | 'tk-B72y8r'`,
		`api_keys: ["k1-9fQ2xA", "k2-7Lm3zB"]`,
		`password=%(name)s-realpart password: @Work(2023)#k`,
		`sb.append("MasterUserPassword: " + getMasterUserPassword() + ",");`,
		"db:\n  password: >-\n    Corr3ct-H0rse\n  user: app\n",
		"<apiToken>\n    tk-81fa9Qe2Lm\n</apiToken>",
		`System.setProperty("ACME_TOKEN", "tk-9Qm2Lx7Rv"); os.environ["API_KEY"] = 'k'`,
		"Ldap password ---- Xq9!vLr2 mixpanel Qm9vT2xLr7xW3pZ8aB4nC6dE key=Zq8vT2mLx9Rk4Wp7Nc3BdF",
		`psexec \\h -u a -p dev_admin; sshpass -p 'x y' ssh; mysql -uroot -pS3cr3t`,
	} {
		f.Add([]byte(s), uint16(len(s)/2))
	}
	r := fuzzR(f)
	f.Fuzz(func(t *testing.T, data []byte, at uint16) {
		in := plant(data, at)
		once, _ := r.Append(nil, in, redactor.FormatText)
		if bytes.Contains(once, []byte(canary)) {
			t.Fatalf("canary survived in %q", once)
		}
		twice, _ := r.Append(nil, once, redactor.FormatText)
		if !bytes.Equal(once, twice) {
			t.Fatalf("redacting twice changed the output:\n in    %q\n once  %q\n twice %q", in, once, twice)
		}
	})
}
