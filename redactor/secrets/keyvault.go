package secrets

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/flowmask/flowmask/redactor"
	"golang.org/x/sync/errgroup"
)

// TokenEnv names the environment variable that supplies a bearer token for
// Key Vault instead of azidentity. With it, the challenge's resource is not
// checked against the vault's host (DisableChallengeResourceVerification),
// so a vault behind another name (a test server, a private endpoint) works.
const TokenEnv = "FLOWMASK_KEYVAULT_TOKEN"

// getConcurrency is how many secret values of one vault are fetched at once.
const getConcurrency = 8

// vault is one Key Vault source.
type vault struct {
	m    *Manager
	cfg  KeyVault
	base string // scheme://host, no trailing slash

	mu     sync.Mutex
	client *azsecrets.Client
	// cache holds the values of the last successful load by name, with
	// the secret's updated time: a secret whose list entry shows the same
	// time is not fetched again.
	cache map[string]cachedSecret
}

type cachedSecret struct {
	updated time.Time
	lit     redactor.Literal
}

func (m *Manager) newVault(kv KeyVault) *vault {
	base := strings.TrimRight(kv.URL, "/")
	if u, err := url.Parse(kv.URL); err == nil && u.Host != "" {
		base = u.Scheme + "://" + u.Host
	}
	return &vault{m: m, cfg: kv, base: base}
}

// staticToken is an azcore.TokenCredential that returns a fixed token.
type staticToken string

func (t staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(t), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// credential returns the credential Key Vault requests use, and whether the
// challenge resource check must be disabled: Options.Credential, else
// FLOWMASK_KEYVAULT_TOKEN, else azidentity.DefaultAzureCredential (built
// once, on first use).
func (m *Manager) credential() (azcore.TokenCredential, bool, error) {
	m.credMu.Lock()
	defer m.credMu.Unlock()
	if m.opts.Credential != nil {
		return m.opts.Credential, false, nil
	}
	if tok, _ := m.lookupEnv(TokenEnv); tok != "" {
		return staticToken(tok), true, nil
	}
	if m.defaultCred == nil {
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, false, fmt.Errorf("azure credential: %w", err)
		}
		m.defaultCred = cred
	}
	return m.defaultCred, false, nil
}

func (v *vault) getClient() (*azsecrets.Client, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.client != nil {
		return v.client, nil
	}
	cred, disable, err := v.m.credential()
	if err != nil {
		return nil, err
	}
	var opts azsecrets.ClientOptions
	if v.m.opts.ClientOptions != nil {
		opts = *v.m.opts.ClientOptions
	}
	if disable {
		opts.DisableChallengeResourceVerification = true
	}
	c, err := azsecrets.NewClient(v.base, cred, &opts)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	v.client = c
	return c, nil
}

// load lists the vault's secrets (following every page), keeps the enabled,
// unexpired, already valid ones that pass the prefix and tag filters, and
// fetches their current values; a secret whose updated time is the same as
// at the last load is not fetched again. Each value's source is
// keyvault:VAULT/secrets/NAME.
func (v *vault) load(ctx context.Context) ([]redactor.Literal, error) {
	c, err := v.getClient()
	if err != nil {
		return nil, err
	}
	now := v.m.now()
	var names []string
	updated := map[string]time.Time{}
	pager := c.NewListSecretPropertiesPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list secrets: %w", compactError(err))
		}
		for _, p := range page.Value {
			if p == nil || p.ID == nil {
				continue
			}
			name := secretName(p.ID)
			if name == "" || !strings.HasPrefix(name, v.cfg.Prefix) || !usable(p.Attributes, now) || !tagsMatch(p.Tags, v.cfg.Tags) {
				continue
			}
			names = append(names, name)
			if p.Attributes != nil && p.Attributes.Updated != nil {
				updated[name] = *p.Attributes.Updated
			}
		}
	}
	v.mu.Lock()
	cache := v.cache
	v.mu.Unlock()

	// Fetch the values, getConcurrency at a time. The first failure fails
	// the load (the source keeps its last good values) and cancels the
	// other fetches; it is reported with the secret's name.
	lits := make([]redactor.Literal, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(getConcurrency)
	for i, name := range names {
		if c, ok := cache[name]; ok && !c.updated.IsZero() && c.updated.Equal(updated[name]) {
			lits[i] = c.lit
			continue
		}
		g.Go(func() error {
			resp, err := c.GetSecret(gctx, name, "", nil)
			if err != nil {
				var re *azcore.ResponseError
				if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
					return nil // deleted since the list
				}
				return fmt.Errorf("get secret %s: %w", name, compactError(err))
			}
			if resp.Value == nil || !usable(resp.Attributes, now) {
				return nil
			}
			lits[i] = redactor.Literal{Source: "keyvault:" + v.base + "/secrets/" + name, Value: *resp.Value}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	next := make(map[string]cachedSecret, len(names))
	out := make([]redactor.Literal, 0, len(lits))
	for i, l := range lits {
		if l.Source != "" {
			out = append(out, l)
			next[names[i]] = cachedSecret{updated: updated[names[i]], lit: l}
		}
	}
	v.mu.Lock()
	v.cache = next
	v.mu.Unlock()
	return out, nil
}

// secretName returns NAME from a secret ID, https://VAULT/secrets/NAME[/VERSION],
// using the SDK's parser; "" if the ID has no name. ID.Name dereferences a
// nil name for an ID with fewer than two path segments (azsecrets v1.5.1),
// so such an ID, which Key Vault never sends, is caught here instead of
// crashing a refresh.
func secretName(id *azsecrets.ID) (name string) {
	defer func() {
		if recover() != nil {
			name = ""
		}
	}()
	return id.Name()
}

// usable reports whether a secret is enabled, not expired and already valid.
func usable(a *azsecrets.SecretAttributes, now time.Time) bool {
	if a == nil {
		return true
	}
	if a.Enabled != nil && !*a.Enabled {
		return false
	}
	if a.Expires != nil && !now.Before(*a.Expires) {
		return false
	}
	if a.NotBefore != nil && now.Before(*a.NotBefore) {
		return false
	}
	return true
}

// tagsMatch reports whether tags hold every wanted tag value.
func tagsMatch(tags map[string]*string, want map[string]string) bool {
	for k, w := range want {
		got, ok := tags[k]
		if !ok || got == nil || *got != w {
			return false
		}
	}
	return true
}

// compactError shortens an Azure response error to one line: method, path,
// status and error code. The SDK's own text spans many lines and includes
// the response body.
func compactError(err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	msg := fmt.Sprintf("status %d", re.StatusCode)
	if re.RawResponse != nil && re.RawResponse.Request != nil {
		msg = fmt.Sprintf("%s %s: %s", re.RawResponse.Request.Method, re.RawResponse.Request.URL.Path, msg)
	}
	if re.ErrorCode != "" {
		msg += " " + re.ErrorCode
	}
	return errors.New(msg)
}
