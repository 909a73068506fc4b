package audit

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/flowmask/flowmask/redactor"
)

// doc is one workflow definition being audited (or, with template set, the
// parameters and variables of an ARM template).
type doc struct {
	a    *Auditor
	ctx  context.Context
	file string
	flow string
	fix  bool
	arm  bool // strings may hold ARM [expressions]

	root     *node
	template bool // audit the template's own parameters and variables only

	def        *node
	defPath    string
	defSegs    []seg
	values     *node // parameter values: ARM properties.parameters, workflow code view parameters
	valuesPath string
	valuesSegs []seg

	secureParams map[string]string // lower-cased parameter name -> how it is secret
	actions      []*action
	taint        map[string]string // lower-cased action name -> why it carries a secret
	taintVars    map[string]string // lower-cased variable name -> source
	refCache     map[*node][]ref

	findings []Finding
	changes  []string
	skipped  []string
}

// action is one trigger or action, nested ones included.
type action struct {
	name    string
	typ     string // lower-cased type
	n       *node
	path    string
	segs    []seg
	trigger bool
	source  string // why its outputs are a secret, when it produces one
	token   bool   // an HTTP token request: its outputs carry a token
}

func (a *action) secure() map[string]bool {
	m := map[string]bool{}
	if p := a.n.path("runtimeConfiguration", "secureData", "properties"); p != nil && p.kind == kArray {
		for _, v := range p.vals {
			m[strings.ToLower(v.text())] = true
		}
	}
	return m
}

func (a *action) tracked() bool {
	return !a.n.get("trackedProperties").empty()
}

// Action type groups (lower-cased).
var (
	noSecureData = set("initializevariable", "setvariable", "appendtoarrayvariable", "appendtostringvariable",
		"incrementvariable", "decrementvariable", "foreach", "if", "scope", "switch", "until", "terminate", "recurrence")
	inputsOnly = set("compose", "parsejson", "response", "wait")
	httpTypes  = set("http", "httpwebhook", "apimanagement", "function")
	varTypes   = set("initializevariable", "setvariable", "appendtoarrayvariable", "appendtostringvariable")
)

func set(s ...string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, v := range s {
		m[v] = true
	}
	return m
}

func (d *doc) add(f Finding) {
	r := ruleByID(f.Rule)
	if f.Severity == 0 {
		f.Severity = r.Severity
	}
	if f.Hint == "" {
		f.Hint = r.Hint
	}
	f.File, f.Flow = d.file, d.flow
	d.findings = append(d.findings, f)
}

func (d *doc) run() {
	if d.template {
		d.checkParams(d.root.get("parameters"), "$.parameters", []seg{keySeg("parameters")})
		if v := d.root.get("variables"); v.isObject() {
			for i, k := range v.keys {
				d.scanTree(nil, v.vals[i], pathKey("$.variables", k), []seg{keySeg("variables"), keySeg(k)})
			}
		}
		return
	}
	d.secureParams = map[string]string{}
	d.taint = map[string]string{}
	d.taintVars = map[string]string{}
	params := d.def.get("parameters")
	d.secretParams(params)
	if d.arm {
		// [parameters('x')] in an ARM template refers to template parameters.
		d.secretParams(d.root.get("parameters"))
	}
	d.checkParams(params, d.defPath+".parameters", with(d.defSegs, keySeg("parameters")))
	if d.values.isObject() {
		for i, k := range d.values.keys {
			v := d.values.vals[i]
			vp, vat := pathKey(d.valuesPath, k), with(d.valuesSegs, keySeg(k))
			if v.isObject() && v.get("value") != nil {
				d.scanTree(nil, v.get("value"), vp+".value", vat)
			} else if !v.isObject() {
				d.scanTree(nil, v, vp, vat)
			}
		}
	}
	d.collect(d.def.get("triggers"), d.defPath+".triggers", with(d.defSegs, keySeg("triggers")), true)
	d.collect(d.def.get("actions"), d.defPath+".actions", with(d.defSegs, keySeg("actions")), false)
	for _, a := range d.actions {
		d.classify(a)
	}
	d.propagate()
	for _, a := range d.actions {
		d.check(a)
	}
}

// collect records the actions of an actions (or triggers) object, and the
// actions nested in scopes, conditions, loops and switches.
func (d *doc) collect(acts *node, p string, at []seg, trigger bool) {
	if !acts.isObject() {
		return
	}
	for i, name := range acts.keys {
		n := acts.vals[i]
		if !n.isObject() {
			continue
		}
		ap, aat := pathKey(p, name), with(at, keySeg(name))
		a := &action{name: name, typ: strings.ToLower(n.get("type").text()), n: n, path: ap, segs: aat, trigger: trigger}
		d.actions = append(d.actions, a)
		if trigger {
			continue
		}
		d.collect(n.get("actions"), ap+".actions", with(aat, keySeg("actions")), false)
		d.collect(n.path("else", "actions"), ap+".else.actions", append(with(aat, keySeg("else")), keySeg("actions")), false)
		if cases := n.get("cases"); cases.isObject() {
			for j, c := range cases.keys {
				cat := append(append(with(aat, keySeg("cases")), keySeg(c)), keySeg("actions"))
				d.collect(cases.vals[j].get("actions"), pathKey(ap+".cases", c)+".actions", cat, false)
			}
		}
		d.collect(n.path("default", "actions"), ap+".default.actions", append(with(aat, keySeg("default")), keySeg("actions")), false)
	}
}

var kvPathRE = regexp.MustCompile(`(?i)^/secrets/.+/value/?$`)

// classify marks actions whose outputs are a secret.
func (d *doc) classify(a *action) {
	in := a.n.get("inputs")
	switch a.typ {
	case "apiconnection":
		m := strings.ToLower(in.get("method").text())
		if kvPathRE.MatchString(in.get("path").text()) && (m == "" || m == "get") {
			a.source = "a Key Vault secret"
		}
	case "openapiconnection":
		api := strings.ToLower(in.path("host", "apiId").text())
		op := strings.ToLower(in.path("host", "operationId").text())
		switch {
		case strings.Contains(api, "keyvault") && strings.Contains(op, "secret"):
			a.source = "a Key Vault secret"
		case strings.EqualFold(in.path("parameters", "actionName").text(), "RetrieveEnvironmentVariableSecretValue"):
			a.source = "an environment variable secret"
		default:
			if name := d.secretEnvVarRead(in); name != "" {
				a.source = fmt.Sprintf("the value of secret-named environment variable %q", name)
			}
		}
	case "serviceprovider":
		cfg := in.get("serviceProviderConfiguration")
		if strings.EqualFold(cfg.get("serviceProviderId").text(), "/serviceProviders/keyVault") &&
			strings.EqualFold(cfg.get("operationId").text(), "getSecret") {
			a.source = "a Key Vault secret"
		}
	}
	if httpTypes[a.typ] && isTokenRequest(in) {
		a.token = true
	}
}

// secretEnvVarRead returns the schema name when a Dataverse action lists
// environment variable definitions or values filtered on a variable whose
// name the engine treats as a secret's (the CoE Starter Kit reads a Text
// "client secret" variable this way), else "".
func (d *doc) secretEnvVarRead(in *node) string {
	if !strings.Contains(strings.ToLower(in.path("host", "apiId").text()), "commondataservice") {
		return ""
	}
	switch strings.ToLower(in.path("parameters", "entityName").text()) {
	case "environmentvariabledefinitions", "environmentvariablevalues":
	default:
		return ""
	}
	for _, name := range quoted(in.path("parameters", "$filter").text()) {
		if name != "" && secretName(d.ctx, d.a.r, name) {
			return name
		}
	}
	return ""
}

// isTokenRequest reports whether HTTP inputs look like an OAuth token
// request (grant_type or client_secret in the body), whose response is a
// token.
func isTokenRequest(in *node) bool {
	b := in.get("body")
	if b == nil {
		return false
	}
	if b.kind == kString {
		s := strings.ToLower(b.str)
		return strings.Contains(s, "grant_type=") || strings.Contains(s, "client_secret=")
	}
	return b.get("grant_type") != nil || b.get("client_secret") != nil
}

// outputsSecured reports whether an action's outputs are hidden.
func outputsSecured(a *action) bool {
	s := a.secure()
	return s["outputs"] || (inputsOnly[a.typ] && s["inputs"])
}

// propagate computes which actions' outputs carry a secret: secret
// sources, actions with secured outputs, token requests that use a secret,
// and (transitively) actions and variables that consume them. Each entry
// says where the secret comes from.
func (d *doc) propagate() {
	for _, a := range d.actions {
		switch {
		case a.source != "":
			d.taint[strings.ToLower(a.name)] = fmt.Sprintf("%s from %s", a.source, a.name)
		case outputsSecured(a):
			d.taint[strings.ToLower(a.name)] = "secured outputs of " + a.name
		}
	}
	for changed := true; changed; {
		changed = false
		for _, a := range d.actions {
			k := strings.ToLower(a.name)
			if _, ok := d.taint[k]; ok || a.trigger || noSecureData[a.typ] && !varTypes[a.typ] {
				continue
			}
			root := d.secretRoot(a.n.get("inputs"))
			if root == "" {
				continue
			}
			if varTypes[a.typ] {
				for _, v := range varNames(a) {
					if _, ok := d.taintVars[strings.ToLower(v)]; !ok {
						d.taintVars[strings.ToLower(v)] = root
						changed = true
					}
				}
				continue
			}
			if httpTypes[a.typ] && !a.token {
				continue // its response is not the secret it sends
			}
			if httpTypes[a.typ] {
				root = "a token requested by " + a.name
			}
			d.taint[k] = root
			changed = true
		}
	}
}

// secretRoot returns where the first secret n references comes from, or "".
func (d *doc) secretRoot(n *node) string {
	_, root := d.secretRefRoot(n)
	return root
}

// varNames returns the variables an action initialises or sets.
func varNames(a *action) []string {
	in := a.n.get("inputs")
	if a.typ == "initializevariable" {
		var out []string
		if vs := in.get("variables"); vs != nil && vs.kind == kArray {
			for _, v := range vs.vals {
				if n := v.get("name").text(); n != "" {
					out = append(out, n)
				}
			}
		}
		return out
	}
	if n := in.get("name").text(); n != "" {
		return []string{n}
	}
	return nil
}

// secretRef describes the first secret n's expressions reference (a
// secure parameter, an action whose outputs carry a secret, a variable
// holding one), or returns "".
func (d *doc) secretRef(n *node) string {
	desc, _ := d.secretRefRoot(n)
	return desc
}

func (d *doc) secretRefRoot(n *node) (desc, root string) {
	for _, r := range d.refsUnder(n) {
		switch r.fn {
		case "parameters":
			if how, ok := d.secureParams[strings.ToLower(r.name)]; ok {
				root = fmt.Sprintf("%s %q", how, r.name)
				return root, root
			}
		case "variables":
			if src, ok := d.taintVars[strings.ToLower(r.name)]; ok {
				return fmt.Sprintf("variable %q (%s)", r.name, src), src
			}
		default:
			if src, ok := d.taint[strings.ToLower(r.name)]; ok {
				return fmt.Sprintf("outputs of %s (%s)", r.name, src), src
			}
		}
	}
	return "", ""
}

// refsUnder returns the references made by the strings under n, parsed once
// per node.
func (d *doc) refsUnder(n *node) []ref {
	if n == nil {
		return nil
	}
	if rs, ok := d.refCache[n]; ok {
		return rs
	}
	var rs []ref
	walkStrings(n, func(s string) bool {
		rs = append(rs, refs(s, d.arm)...)
		return true
	})
	if d.refCache == nil {
		d.refCache = map[*node][]ref{}
	}
	d.refCache[n] = rs
	return rs
}

// walkStrings calls fn for each string value (not key) under n until fn
// returns false.
func walkStrings(n *node, fn func(string) bool) bool {
	if n == nil {
		return true
	}
	switch n.kind {
	case kString:
		return fn(n.str)
	case kObject, kArray:
		for _, v := range n.vals {
			if !walkStrings(v, fn) {
				return false
			}
		}
	}
	return true
}

// secretParams records the parameters that hold secrets: securestring and
// secureobject ones, and others whose name (or Power Automate environment
// variable schema name) the engine's key-name rules treat as a secret's,
// such as a Text environment variable "Client Secret (contoso_ClientSecret)".
// Platform parameters ($connections, $authentication) are not secrets that
// run history shows.
func (d *doc) secretParams(params *node) {
	if !params.isObject() {
		return
	}
	for i, k := range params.keys {
		if strings.HasPrefix(k, "$") {
			continue
		}
		pr := params.vals[i]
		t := strings.ToLower(pr.get("type").text())
		switch {
		case t == "securestring" || t == "secureobject":
			d.secureParams[strings.ToLower(k)] = "secure parameter"
		case t == "" || t == "string":
			name := k
			if sn := pr.path("metadata", "schemaName").text(); sn != "" {
				name = sn
			}
			if secretName(d.ctx, d.a.r, name) {
				d.secureParams[strings.ToLower(k)] = "parameter with a secret's name"
			}
		}
	}
}

// secretName asks the engine whether a value stored under name would be a
// secret (a key-name rule such as password or client-secret matches it).
func secretName(_ context.Context, r *redactor.Redactor, name string) bool {
	_, ok := r.NameRule(name)
	return ok
}

// checkParams reports secure parameters with defaults and secrets in
// default values.
func (d *doc) checkParams(params *node, p string, at []seg) {
	if !params.isObject() {
		return
	}
	for i, name := range params.keys {
		pr := params.vals[i]
		pp := pathKey(p, name)
		dv := pr.get("defaultValue")
		if dv == nil {
			continue
		}
		t := strings.ToLower(pr.get("type").text())
		if (t == "securestring" || t == "secureobject") && !dv.empty() && !(dv.kind == kString && hasExpr(dv.str, d.arm) && !hasLiteral(dv.str, d.arm)) {
			d.add(Finding{Rule: RuleSecureParamDefault, Path: pp + ".defaultValue",
				Message: fmt.Sprintf("%s parameter %q has a default value", t, name)})
			continue
		}
		key := name
		if sn := pr.path("metadata", "schemaName").text(); sn != "" {
			key = sn
		}
		d.scanTree(nil, dv, pp+".defaultValue", with(at, keySeg(key)))
	}
}

// hasLiteral reports whether s has literal (non-expression) text.
func hasLiteral(s string, arm bool) bool {
	for _, sg := range segments(s, arm) {
		if !sg.expr && strings.TrimSpace(sg.text) != "" {
			return true
		}
	}
	return false
}

// check runs the per-action rules.
func (d *doc) check(a *action) {
	in := a.n.get("inputs")
	sec := a.secure()
	// Plain-text URLs and signatures.
	sigPaths := map[string]bool{}
	walkPaths(in, a.path+".inputs", func(s, p string) {
		if hasSig(s, d.arm) {
			sigPaths[p] = true
			d.add(Finding{Rule: RuleSigInURL, Action: a.name, Path: p,
				Message: "URL carries a sig= signature in plain text"})
		}
	})
	if httpTypes[a.typ] {
		for _, u := range []string{"uri", "subscribe.uri", "unsubscribe.uri"} {
			n := in.path(strings.Split(u, ".")...)
			if n == nil || n.kind != kString {
				continue
			}
			if sev, ok := plainHTTP(n.str, d.arm); ok {
				d.add(Finding{Rule: RuleInsecureHTTP, Severity: sev, Action: a.name, Path: a.path + ".inputs." + u,
					Message: "endpoint uses http:// (not encrypted)"})
			}
		}
	}
	// Hardcoded secrets.
	d.scanTreeSkip(a, in, a.path+".inputs", with(a.segs, keySeg("inputs")), sigPaths)
	if a.trigger {
		if httpTypes[a.typ] {
			d.checkHTTP(a, in, sec)
		}
		return
	}
	switch {
	case a.source != "":
		if !sec["outputs"] {
			d.want(a, RuleKeyVaultNotSecured, []string{"inputs", "outputs"},
				fmt.Sprintf("reads %s without secure outputs: the secret is shown in run history", a.source))
		}
	case httpTypes[a.typ]:
		d.checkHTTP(a, in, sec)
	case varTypes[a.typ]:
		if src := d.secretRef(in); src != "" {
			d.add(Finding{Rule: RuleVariableHoldsSecret, Action: a.name, Path: a.path + ".inputs",
				Message: fmt.Sprintf("variable set from %s; variables cannot be secured", src)})
		}
	case noSecureData[a.typ]:
	default:
		if src := d.secretRef(in); src != "" {
			need := "outputs"
			props := []string{"inputs", "outputs"}
			if inputsOnly[a.typ] {
				need, props = "inputs", []string{"inputs"}
			}
			if !sec[need] {
				d.want(a, RuleSecuredOutputConsumed, props,
					fmt.Sprintf("consumes %s but its %s are not secured", src, need))
			}
		}
	}
	// Tracked properties.
	if a.tracked() {
		switch {
		case len(sec) > 0:
			d.add(Finding{Rule: RuleTrackedPropertiesOnSec, Action: a.name, Path: a.path + ".trackedProperties",
				Message: "trackedProperties are not allowed on an action with secureData"})
		case d.secretRef(a.n.get("trackedProperties")) != "":
			d.add(Finding{Rule: RuleTrackedPropertiesOnSec, Action: a.name, Path: a.path + ".trackedProperties",
				Message: "trackedProperties reference " + d.secretRef(a.n.get("trackedProperties")) + "; they are sent to diagnostics"})
		}
	}
}

// checkHTTP reports an HTTP action or trigger that sends credentials
// without secure inputs.
func (d *doc) checkHTTP(a *action, in *node, sec map[string]bool) {
	if sec["inputs"] {
		return
	}
	var why []string
	if h := in.get("headers"); h.isObject() {
		for i, k := range h.keys {
			if _, ok := d.a.r.NameRule(k); ok && !h.vals[i].empty() {
				why = append(why, fmt.Sprintf("header %q", k))
			}
		}
	}
	if auth := in.get("authentication"); auth.isObject() && !strings.EqualFold(auth.get("type").text(), "ManagedServiceIdentity") {
		why = append(why, "an authentication block")
	}
	if src := d.secretRef(in); src != "" {
		why = append(why, "a reference to "+src)
	}
	if len(why) == 0 {
		return
	}
	props := []string{"inputs"}
	msg := "inputs are not secured but carry " + strings.Join(why, " and ")
	if a.token {
		props = append(props, "outputs")
		msg += "; the response is a token, so its outputs need securing too"
	}
	d.want(a, RuleHTTPCredentials, props, msg)
}

// want reports that a should have secureData props, and with Fix adds them
// unless the action has trackedProperties.
func (d *doc) want(a *action, rule string, props []string, msg string) {
	f := Finding{Rule: rule, Action: a.name, Path: a.path + ".runtimeConfiguration.secureData", Message: msg, Fixable: true}
	if a.tracked() {
		f.Fixable = false
		f.Hint = ruleByID(rule).Hint + `; the action has trackedProperties, which secured actions cannot have: remove them first (--fix leaves this action alone)`
		if d.fix {
			d.skipped = append(d.skipped, fmt.Sprintf("%s: %s: %s: not fixed: the action has trackedProperties", d.file, d.flow, a.name))
		}
	}
	d.add(f)
	if d.fix && f.Fixable {
		addSecure(a.n, props)
		d.changes = append(d.changes, fmt.Sprintf("%s: %s: %s: secureData %s", d.file, d.flow, a.name, strings.Join(props, ", ")))
	}
}

// addSecure merges props into n.runtimeConfiguration.secureData.properties.
func addSecure(n *node, props []string) {
	rc := n.get("runtimeConfiguration")
	if !rc.isObject() {
		rc = &node{kind: kObject}
		n.set("runtimeConfiguration", rc)
	}
	sd := rc.get("secureData")
	if !sd.isObject() {
		sd = &node{kind: kObject}
		rc.set("secureData", sd)
	}
	pl := sd.get("properties")
	if pl == nil || pl.kind != kArray {
		pl = &node{kind: kArray}
		sd.set("properties", pl)
	}
	have := map[string]bool{}
	for _, v := range pl.vals {
		have[strings.ToLower(v.text())] = true
	}
	for _, p := range props {
		if !have[p] {
			pl.vals = append(pl.vals, &node{kind: kString, str: p})
		}
	}
	// Keep the documented order: inputs before outputs.
	sort.SliceStable(pl.vals, func(i, j int) bool { return pl.vals[i].text() < pl.vals[j].text() })
}

// walkPaths calls fn with each string under n and its JSON path.
func walkPaths(n *node, p string, fn func(s, p string)) {
	if n == nil {
		return
	}
	switch n.kind {
	case kString:
		fn(n.str, p)
	case kObject:
		for i, k := range n.keys {
			walkPaths(n.vals[i], pathKey(p, k), fn)
		}
	case kArray:
		for i, v := range n.vals {
			walkPaths(v, pathIndex(p, i), fn)
		}
	}
}

var sigRE = regexp.MustCompile(`(?i)[?&]sig=([^&#\s"]*)`)

// hasSig reports whether the literal text of s has a non-empty sig= query
// parameter.
func hasSig(s string, arm bool) bool {
	for _, sg := range segments(s, arm) {
		if sg.expr {
			continue
		}
		for _, m := range sigRE.FindAllStringSubmatch(sg.text, -1) {
			if m[1] != "" {
				return true
			}
		}
	}
	return false
}

// plainHTTP reports whether s starts with literal http:// text, with Note
// severity for loopback hosts.
func plainHTTP(s string, arm bool) (Severity, bool) {
	sg := segments(s, arm)
	if len(sg) == 0 || sg[0].expr {
		return 0, false
	}
	t := strings.ToLower(strings.TrimSpace(sg[0].text))
	if !strings.HasPrefix(t, "http://") {
		return 0, false
	}
	host := t[len("http://"):]
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host = host[:i]
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
		host = h
	}
	if host == "localhost" || strings.HasPrefix(host, "127.") || host == "[::1]" || strings.HasPrefix(host, "[::1]:") {
		return Note, true
	}
	return Warning, true
}

// placeholder replaces expressions before scanning: the engine leaves a
// value that is only a mask alone.
const placeholder = "[REDACTED:expression]"

// seg is one step of a JSON path: an object key or an array index.
type seg struct {
	key string
	idx int
	arr bool
}

// with returns at plus one step, never sharing at's backing array.
func with(at []seg, s seg) []seg {
	out := make([]seg, len(at), len(at)+1)
	copy(out, at)
	return append(out, s)
}

func keySeg(k string) seg { return seg{key: k} }

// scanTree reports hardcoded secrets in the strings under n. p is n's JSON
// path as reported; at is the path given to the engine (the same, except
// that a parameter's value sits directly under the parameter's name, so
// that name is the key-name context and allowlist paths read
// $.definition.parameters.<name>).
func (d *doc) scanTree(a *action, n *node, p string, at []seg) {
	d.scanTreeSkip(a, n, p, at, nil)
}

func (d *doc) scanTreeSkip(a *action, n *node, p string, at []seg, sig map[string]bool) {
	if n == nil {
		return
	}
	switch n.kind {
	case kString:
		ids := detectValue(d.ctx, d.a.r, n.str, at, d.arm)
		if sig[p] { // already reported as sig-in-url
			for id := range ids {
				if strings.Contains(id, "sas") {
					delete(ids, id)
				}
			}
		}
		if len(ids) > 0 {
			f := Finding{Rule: RuleHardcodedSecret, Path: p,
				Message: fmt.Sprintf("hardcoded secret (%s, %d-byte value) in plain text", ruleList(ids), len(n.str))}
			if a != nil {
				f.Action = a.name
			}
			d.add(f)
		}
	case kObject:
		for i, k := range n.keys {
			d.scanTreeSkip(a, n.vals[i], pathKey(p, k), with(at, keySeg(k)), sig)
		}
	case kArray:
		for i, v := range n.vals {
			d.scanTreeSkip(a, v, pathIndex(p, i), with(at, seg{idx: i, arr: true}), sig)
		}
	}
}

// ruleList names the detection rules that matched: "api-key rule" or
// "api-key, password rules".
func ruleList(ids map[string]bool) string {
	if len(ids) == 1 {
		return sortedKeys(ids)[0] + " rule"
	}
	return strings.Join(sortedKeys(ids), ", ") + " rules"
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// detectValue runs the engine on the literal text of s (expressions
// replaced by a mask, so "Bearer @{...}" is a reference and "Bearer eyJ..."
// is not) placed at path at in an otherwise empty JSON document, so that the
// nearest key is the key-name context and allowlist paths apply; and on the
// quoted literals inside its expressions as text. It returns the IDs of the
// rules that matched.
func detectValue(ctx context.Context, r *redactor.Redactor, s string, at []seg, arm bool) map[string]bool {
	ids := map[string]bool{}
	if len(at) == 0 {
		at = []seg{keySeg("value")}
	}
	var buf bytes.Buffer
	for _, sg := range at {
		if sg.arr {
			buf.WriteByte('[')
			for range sg.idx {
				buf.WriteString("null,")
			}
			continue
		}
		buf.WriteByte('{')
		writeString(&buf, sg.key)
		buf.WriteByte(':')
	}
	buf.WriteByte('"')
	type rng struct{ a, b int64 }
	var masks []rng
	var lits []string
	literal := false
	for _, sg := range segments(s, arm) {
		if sg.expr {
			start := int64(buf.Len())
			buf.WriteString(placeholder)
			masks = append(masks, rng{start, int64(buf.Len())})
			lits = append(lits, quoted(sg.text)...)
			continue
		}
		if sg.text != "" {
			literal = true
		}
		var tmp bytes.Buffer
		writeString(&tmp, sg.text)
		buf.Write(tmp.Bytes()[1 : tmp.Len()-1])
	}
	buf.WriteByte('"')
	for i := len(at) - 1; i >= 0; i-- {
		if at[i].arr {
			buf.WriteByte(']')
		} else {
			buf.WriteByte('}')
		}
	}
	if literal {
		_, _ = r.Scan(ctx, bytes.NewReader(buf.Bytes()), redactor.FormatJSON, redactor.FormatJSON, func(f redactor.Finding) {
			end := f.Offset + int64(f.Length)
			for _, m := range masks {
				if f.Offset < m.b && end > m.a {
					return // overlaps an expression: a reference, not a secret
				}
			}
			ids[f.Rule] = true
		})
	}
	for _, l := range lits {
		if len(l) < 8 {
			continue
		}
		_, _ = r.Scan(ctx, strings.NewReader(l), redactor.FormatText, redactor.FormatText, func(f redactor.Finding) {
			ids[f.Rule] = true
		})
	}
	return ids
}
