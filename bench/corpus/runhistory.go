package corpus

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// RunHistory returns a Logic Apps run-history export of about size bytes:
// one JSON document {"value":[action...],"nextLink":...} in the shape of the
// workflowRuns/actions list API, with inputsLink/outputsLink content URIs
// signed with sig=, inline inputs and outputs whose bodies are
// {"$content-type","$content"} envelopes holding base64 JSON, correlation
// ids and trackedProperties. Secrets: every content link's sig, some
// Authorization headers (Bearer JWTs), some envelopes whose JSON holds a
// password or client secret, and some known values (the first 16 of lits)
// in trackedProperties. Envelopes without a secret are reported in Values:
// they must come out byte-identical.
func RunHistory(seed uint64, size int, lits []string) *Corpus {
	g := newGen(seed, size)
	g.lits = lits[:min(plantedLiterals, len(lits))]
	g.buf = append(g.buf, "{\n  \"value\": [\n"...)
	sub := g.guid()
	i := 0
	for len(g.buf) < size {
		if i > 0 {
			g.buf = append(g.buf, ",\n"...)
		}
		g.action(i, sub)
		i++
	}
	g.buf = append(g.buf, "\n  ],\n  \"nextLink\": \"https://management.azure.com/subscriptions/"...)
	g.buf = append(g.buf, sub+"/resourceGroups/rg-orders/providers/Microsoft.Logic/workflows/orders-sync/runs?api-version=2019-05-01&$skiptoken="+g.str(40, alnum)+"\"\n}\n"...)
	c := g.corpus("runhistory-json")
	c.Literals = g.lits
	return c
}

var actionNames = []string{"HTTP", "Parse_JSON", "Send_an_email_(V2)", "Get_secret", "Compose", "Insert_row", "HTTP_Webhook", "Response"}

func (g *gen) contentLink(run, name, which string) string {
	sig := g.secret(KindSASSig, g.str(43, b64url))
	return `{
          "uri": "https://prod-17.westeurope.logic.azure.com:443/workflows/` + g.keep(g.hexN(32)) + `/runs/` + run + `/actions/` + name + `/contents/` + which +
		`?api-version=2016-10-01&se=2026-11-28T10%3A00%3A00.0000000Z&sp=%2Fruns%2F` + run + `%2Factions%2F` + name + `%2Fcontents%2F` + which + `%2Fread&sv=1.0&sig=` + sig + `",
          "contentVersion": "` + g.keep(g.md5b64()) + `",
          "contentSize": ` + strconv.Itoa(100+g.rng.IntN(90000)) + `,
          "contentHash": {
            "algorithm": "md5",
            "value": "` + g.keep(g.md5b64()) + `"
          }
        }`
}

// envelope returns a $content envelope for body. With secret set, the
// secret is recorded as inside content; otherwise the base64 is a Value.
func (g *gen) envelope(body string, secretKind, secret string) string {
	b64 := base64.StdEncoding.EncodeToString([]byte(body))
	if secret != "" {
		g.secrets = append(g.secrets, Secret{Kind: secretKind, Value: secret, InContent: true})
	} else {
		g.keep(b64)
	}
	return `{"$content-type": "application/json", "$content": "` + b64 + `"}`
}

func (g *gen) action(i int, sub string) {
	run := g.keep(g.runID())
	name := actionNames[i%len(actionNames)]
	start, end := g.keep(g.ts()), g.keep(g.ts())
	order := g.keep(g.guid())

	var headers strings.Builder
	headers.WriteString(`{"Content-Type": "application/json", "x-ms-client-request-id": "` + g.keep(g.guid()) + `"`)
	if i%4 == 1 {
		headers.WriteString(`, "Authorization": "Bearer ` + g.secret(KindJWT, g.jwt()) + `"`)
	}
	headers.WriteString(`}`)

	var inBody string
	switch i % 5 {
	case 2:
		pw := g.pick("Orders", "Winter", "Sync") + g.str(12, alnum)
		inBody = g.envelope(`{"grant_type":"password","username":"svc-orders@contoso.com","password":"`+pw+`","orderId":"`+order+`"}`, KindPassword, pw)
	case 4:
		cs := g.str(3, alnum) + "8Q~" + g.str(34, alnum+"_~.-")
		inBody = g.envelope(`{"client_id":"`+g.guid()+`","client_secret":"`+cs+`","scope":"https://graph.microsoft.com/.default"}`, KindEntraSecret, cs)
	default:
		inBody = g.envelope(`{"orderId":"`+order+`","customer":{"name":"Ren\u00e9e","email":"renee@example.com"},"lines":[{"sku":"SKU-`+strconv.Itoa(g.rng.IntN(1e5))+`","qty":`+strconv.Itoa(1+g.rng.IntN(9))+`}],"token_type":"Bearer","api":"/api/v1/orders"}`, "", "")
	}
	outBody := g.envelope(`{"status":"accepted","id":"`+order+`","code":"OK","traceId":"`+g.hexN(32)+`"}`, "", "")

	tracked := `{"orderId": "` + order + `", "region": "` + g.pick(regions...) + `"`
	if i%7 == 3 && len(g.lits) > 0 {
		tracked += `, "partnerSession": "` + g.secret(KindLiteralRaw, g.literal()) + `"`
	}
	tracked += `}`

	g.buf = append(g.buf, `    {
      "properties": {
        "inputsLink": `+g.contentLink(run, name, "ActionInputs")+`,
        "outputsLink": `+g.contentLink(run, name, "ActionOutputs")+`,
        "inputs": {
          "method": "POST",
          "uri": "`+g.keep("https://api.partner.example.com/v1/orders?api-version=2023-01-01")+`",
          "headers": `+headers.String()+`,
          "body": `+inBody+`
        },
        "outputs": {
          "statusCode": 200,
          "headers": {"Content-Type": "application/json; charset=utf-8", "x-ms-request-id": "`+g.keep(g.guid())+`", "Content-MD5": "`+g.keep(g.md5b64())+`"},
          "body": `+outBody+`
        },
        "startTime": "`+start+`",
        "endTime": "`+end+`",
        "correlation": {
          "actionTrackingId": "`+g.keep(g.guid())+`",
          "clientTrackingId": "`+run+`"
        },
        "trackedProperties": `+tracked+`,
        "status": "Succeeded",
        "code": "OK"
      },
      "id": "`+g.keep("/subscriptions/"+sub+"/resourceGroups/rg-orders/providers/Microsoft.Logic/workflows/orders-sync/runs/"+run+"/actions/"+name)+`",
      "name": "`+name+`",
      "type": "Microsoft.Logic/workflows/runs/actions"
    }`...)
}
