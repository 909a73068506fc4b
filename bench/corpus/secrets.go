package corpus

import (
	"encoding/base64"
	"hash/crc32"
	"net/url"
	"strconv"
	"strings"
)

// Kinds of planted secret.
const (
	KindAWSKeyID        = "aws-access-key-id"
	KindAWSSecret       = "aws-secret-access-key"
	KindGitHubPAT       = "github-pat"
	KindGitHubFineGrain = "github-fine-grained-pat"
	KindSlackBot        = "slack-bot-token"
	KindSlackWebhook    = "slack-webhook-url"
	KindStripe          = "stripe-live-key"
	KindJWT             = "jwt"
	KindAzureStorageKey = "azure-storage-account-key"
	KindPassword        = "json-password"
	KindSASSig          = "azure-sas-sig"
	KindPEM             = "pem-private-key"
	KindGoogleAPIKey    = "google-api-key"
	KindEntraSecret     = "entra-client-secret"
	KindServiceBusKey   = "servicebus-shared-access-key"
	KindPostgresURL     = "postgres-url-password"
	KindOpenAI          = "openai-api-key"
	KindSendGrid        = "sendgrid-api-key"
	KindLiteralRaw      = "literal-raw"
	KindLiteralBase64   = "literal-base64"
	KindLiteralURL      = "literal-url-escaped"
)

// Kinds lists the secret kinds a dense corpus cycles through, in order.
var Kinds = []string{
	KindAWSKeyID, KindGitHubPAT, KindSlackBot, KindStripe, KindJWT, KindAzureStorageKey,
	KindPassword, KindSASSig, KindPEM, KindLiteralRaw, KindLiteralBase64, KindLiteralURL,
	KindAWSSecret, KindGitHubFineGrain, KindSlackWebhook, KindGoogleAPIKey, KindEntraSecret,
	KindServiceBusKey, KindPostgresURL, KindOpenAI, KindSendGrid,
}

// githubToken returns prefix + 30 random base62 characters + their CRC32 in
// six base62 characters, the shape of GitHub's classic tokens.
func (g *gen) githubToken(prefix string) string {
	random := g.str(30, alnum)
	c := crc32.ChecksumIEEE([]byte(random))
	var enc [6]byte
	for k := 5; k >= 0; k-- {
		enc[k] = base62[c%62]
		c /= 62
	}
	return prefix + random + string(enc[:])
}

// jwt returns a signed-looking JWT with a realistic header and payload.
func (g *gen) jwt() string {
	enc := base64.RawURLEncoding
	h := enc.EncodeToString([]byte(`{"alg":"RS256","kid":"` + g.str(27, b64url) + `","typ":"JWT"}`))
	p := enc.EncodeToString([]byte(`{"aud":"api://orders","iss":"https://sts.windows.net/` + g.guid() +
		`/","iat":1795770000,"exp":1795773600,"oid":"` + g.guid() + `","scp":"orders.read","sub":"` + g.str(43, b64url) + `"}`))
	return h + "." + p + "." + g.str(342, b64url)
}

// pemBody returns the base64 lines of a PEM private key joined by "\n".
func (g *gen) pemBody(lines int) string {
	parts := make([]string, lines)
	for i := range parts {
		parts[i] = g.str(64, b64chars)
	}
	parts[0] = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + parts[0][32:]
	return strings.Join(parts, "\n") + "\n" + g.str(24, b64chars) + "=="
}

func (g *gen) literal() string { return g.lits[g.rng.IntN(len(g.lits))] }

// secretLine appends a log line holding one secret of kind Kinds[k%len].
func (g *gen) secretLine(k int) {
	c := g.common()
	kind := Kinds[k%len(Kinds)]
	if len(g.lits) == 0 && strings.HasPrefix(kind, "literal-") {
		kind = KindPassword
	}
	lvl := "level"
	switch kind {
	case KindAWSKeyID:
		v := g.secret(kind, "AKIA"+g.str(16, upper32))
		g.line(append(c, lvl, q("debug"), "msg", q("s3 client configured with key "+v+" for region eu-west-1"),
			"bucket", q("exports-"+g.keep(g.hexN(12))))...)
	case KindAWSSecret:
		v := g.secret(kind, g.str(40, b64chars))
		g.line(append(c, lvl, q("warn"), "msg", q("environment dump"),
			"env", jsonStr("AWS_REGION=eu-west-1\nAWS_SECRET_ACCESS_KEY="+v+"\nHOME=/home/app"))...)
	case KindGitHubPAT:
		v := g.secret(kind, g.githubToken("ghp_"))
		g.line(append(c, lvl, q("info"), "msg", q("cloning https://github.com/contoso/orders.git with token "+v),
			"commit", q(g.keep(g.hexN(40))))...)
	case KindGitHubFineGrain:
		v := g.secret(kind, "github_pat_11"+g.str(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")+"_"+g.str(59, alnum))
		g.line(append(c, lvl, q("info"), "msg", q("GH_TOKEN="+v+" exported for release job"),
			"job_id", q(g.keep(g.guid())))...)
	case KindSlackBot:
		v := g.secret(kind, "xoxb-"+g.str(12, "0123456789")+"-"+g.str(13, "0123456789")+"-"+g.str(24, alnum))
		g.line(append(c, lvl, q("debug"), "msg", q("posting to #ops with "+v),
			"channel", q("C0"+g.str(9, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")))...)
	case KindSlackWebhook:
		// The workspace and channel ids are not secret; the last segment is.
		ids := g.keep("T0"+g.str(9, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")+"/B0"+g.str(9, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")) + "/"
		v := g.secret(kind, g.str(24, alnum))
		g.line(append(c, lvl, q("info"), "msg", q("alert sent"),
			"webhook", q("https://hooks.slack.com/services/"+ids+v))...)
	case KindStripe:
		v := g.secret(kind, "sk_live_"+g.str(24+g.rng.IntN(76), alnum))
		g.line(append(c, lvl, q("error"), "msg", q("stripe charge failed using "+v+": card_declined"),
			"charge_id", q("ch_"+g.keep(g.str(24, alnum))))...)
	case KindJWT:
		v := g.secret(kind, g.jwt())
		if g.rng.IntN(2) == 0 {
			g.line(append(c, lvl, q("debug"), "msg", q("outgoing request"),
				"headers", `{"Authorization":"Bearer `+v+`","x-ms-client-request-id":"`+g.keep(g.guid())+`"}`)...)
		} else {
			g.line(append(c, lvl, q("debug"), "msg", q("callback received ?id_token="+v+"&state="+g.keep(g.hexN(32))))...)
		}
	case KindAzureStorageKey:
		v := g.secret(kind, g.str(86, b64chars)+"==")
		g.line(append(c, lvl, q("info"), "msg", q("storage client created"),
			"connection", q("DefaultEndpointsProtocol=https;AccountName=storders"+g.str(6, lowerHex)+";AccountKey="+v+";EndpointSuffix=core.windows.net"))...)
	case KindPassword:
		v := g.secret(kind, g.pick("Winter", "Summer", "Orders", "P@ss")+g.str(10, alnum+"!#$%"))
		g.line(append(c, lvl, q("debug"), "msg", q("login attempt"),
			"user", q("svc-orders"), "password", q(v), "login_id", q(g.keep(g.guid())))...)
	case KindSASSig:
		v := g.secret(kind, url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(g.str(32, alnum)))))
		se := g.keep("2026-11-28T10%3A00%3A00Z")
		g.line(append(c, lvl, q("info"), "msg", q("download link issued"),
			"url", q("https://storders.blob.core.windows.net/exports/"+g.keep(g.guid())+".json?sv=2022-11-02&se="+se+"&sr=b&sp=r&sig="+v))...)
	case KindPEM:
		v := g.pemBody(6)
		esc := strings.ReplaceAll(v, "\n", `\n`)
		g.secret(kind, esc)
		g.line(append(c, lvl, q("warn"), "msg", q("key material loaded from config"),
			"private_key_pem", q(`-----BEGIN PRIVATE KEY-----\n`+esc+`\n-----END PRIVATE KEY-----\n`))...)
	case KindGoogleAPIKey:
		v := g.secret(kind, "AIza"+g.str(35, alnum+"-_"))
		g.line(append(c, lvl, q("info"), "msg", q("geocoding https://maps.googleapis.com/maps/api/geocode/json?address=Main+St&key="+v))...)
	case KindEntraSecret:
		v := g.secret(kind, g.str(3, alnum)+strconv.Itoa(g.rng.IntN(10))+"Q~"+g.str(34, alnum+"_~.-"))
		g.line(append(c, lvl, q("debug"), "msg", q("msal confidential client built, credential "+v),
			"client_id", q(g.keep(g.guid())))...)
	case KindServiceBusKey:
		v := g.secret(kind, base64.StdEncoding.EncodeToString([]byte(g.str(32, alnum))))
		g.line(append(c, lvl, q("info"), "msg", q("servicebus sender ready"),
			"cs", q("Endpoint=sb://sb-orders.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey="+v+";EntityPath=orders"))...)
	case KindPostgresURL:
		v := g.secret(kind, g.str(16, alnum))
		g.line(append(c, lvl, q("info"), "msg", q("migrations applied to postgres://orders_app:"+v+"@pg-orders.postgres.database.azure.com:5432/orders?sslmode=require"))...)
	case KindOpenAI:
		v := g.secret(kind, "sk-proj-"+g.str(74, alnum+"-_")+"T3BlbkFJ"+g.str(74, alnum+"-_"))
		g.line(append(c, lvl, q("debug"), "msg", q("llm client init key="+v))...)
	case KindSendGrid:
		v := g.secret(kind, "SG."+g.str(22, alnum+"-_")+"."+g.str(43, alnum+"-_"))
		g.line(append(c, lvl, q("info"), "msg", q("mail provider configured: "+v))...)
	case KindLiteralRaw:
		lit := g.literal()
		g.secret(kind, lit)
		g.line(append(c, lvl, q("debug"), "msg", jsonStr("partner responded with session "+lit+" for order "+strconv.Itoa(g.rng.IntN(1e6))))...)
	case KindLiteralBase64:
		v := g.secret(kind, base64.StdEncoding.EncodeToString([]byte(g.literal())))
		g.line(append(c, lvl, q("debug"), "msg", q("payload captured"), "payload_b64", q(v))...)
	case KindLiteralURL:
		v := g.secret(kind, url.QueryEscape(g.literal()))
		g.line(append(c, lvl, q("info"), "msg", q("GET /api/v1/export?session="+v+"&"+g.keep("api-version=2019-05-01")))...)
	}
}
