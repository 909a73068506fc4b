package audit_test

import (
	"io"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/proxy/audit"
)

// TestRedteam3OutputURLNotEchoed: an audit output that is a URL but not
// http(s) (ftp://, a typo such as htps://) was taken for a file path, and
// the open error quoted it whole: a SAS signature or a password in the URL
// went to stderr. It is refused without being quoted.
func TestRedteam3OutputURLNotEchoed(t *testing.T) {
	const sig = "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3"
	for _, out := range []string{
		"ftp://logs.example.com/in?sv=2022-11-02&sig=" + sig + "%3D",
		"htps://logs.example.com/in?sig=" + sig,
		"HTTPS:/logs.example.com/in?sig=" + sig,
		"sftp://svc:" + sig + "@logs.example.com/in",
	} {
		_, _, err := audit.OpenOutput(out, io.Discard, io.Discard)
		if err == nil {
			t.Errorf("%.12s...: accepted as a file path", out)
			continue
		}
		if strings.Contains(err.Error(), sig) {
			t.Errorf("the error quotes the output: %v", err)
		}
	}
}
