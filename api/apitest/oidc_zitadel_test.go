package apitest

import (
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"redress/auth"
	"redress/store"
	"redress/store/storetest"
)

// An OpenID provider this repository did not write: zitadel/oidc's example server (the same
// exampleop router and in-memory storage its main package wires), served on 127.0.0.1 only by
// httptest; its own main listens on every interface. Its two users are "id1"
// (test-user@127.0.0.1) and "id2" (test-user2), password "verysecure". It puts no
// preferred_username into the ID token, so redress signs its users in by `sub`.
type zitadelOP struct {
	URL      string // the issuer, with a trailing slash as the provider announces it
	clientID string
	secret   string
}

func startZitadelOP(t *testing.T, clientID, secret, redirectURI string) zitadelOP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + l.Addr().String() + "/"
	// Clients of this provider only (the package-level registry is shared by the binary).
	clients := map[string]*storage.Client{clientID: storage.WebClient(clientID, secret, redirectURI)}
	st := storage.NewStorageWithClients(storage.NewUserStore(issuer), clients)
	// A nil logger: SetupServer would otherwise replace the process's default logger.
	srv := httptest.NewUnstartedServer(exampleop.SetupServer(issuer, st, nil, false))
	if err := srv.Listener.Close(); err != nil {
		t.Fatalf("close the unstarted server's own listener: %v", err)
	}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return zitadelOP{URL: issuer, clientID: clientID, secret: secret}
}

// signIn runs a browser's part of the sign-in through the real provider: our login endpoint,
// the provider's authorize endpoint and its login form (username and password), then our
// callback with the code the provider sent to the redirect URI, and the flow cookie. It
// returns the hand-off (handOffOf).
func (op zitadelOP) signIn(t *testing.T, e *env, username, password string) url.Values {
	t.Helper()
	res := e.do(t, request{method: "GET", path: "/api/v1/auth/oidc/login"})
	wantStatus(t, res, http.StatusFound)
	var flow string
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == "redress_oidc" {
			flow = c.Value
		}
	}
	if flow == "" {
		t.Fatal("no flow cookie")
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if strings.HasSuffix(req.URL.Path, "/api/v1/auth/oidc/callback") {
				return http.ErrUseLastResponse // the redirect URI is ours: stop there
			}
			return nil
		}}
	// authorize → the provider's login page (an HTML form carrying the auth request id).
	page, err := browser.Get(res.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if err := page.Body.Close(); err != nil {
		t.Fatalf("close the login page: %v", err)
	}
	reqID := page.Request.URL.Query().Get("authRequestID")
	if page.StatusCode != http.StatusOK || reqID == "" {
		t.Fatalf("the provider's login page: %d %s", page.StatusCode, page.Request.URL)
	}
	back, err := browser.PostForm(op.URL+"login/username", url.Values{"id": {reqID}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Body.Close(); err != nil {
		t.Fatalf("close the login answer: %v", err)
	}
	loc, err := url.Parse(back.Header.Get("Location"))
	if err != nil || back.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		t.Fatalf("the provider did not send a code back: %d %s", back.StatusCode, back.Header.Get("Location"))
	}
	cb := e.do(t, request{method: "GET", path: "/api/v1/auth/oidc/callback?" + loc.RawQuery, header: map[string]string{"Cookie": "redress_oidc=" + flow}})
	return handOffOf(t, cb)
}

// newZitadelEnv is a server that signs in through the zitadel provider with loginClaim, and
// maps roles from the claim "redress_roles" (which this provider never sends).
func newZitadelEnv(t *testing.T, db *store.DB, loginClaim string) (*env, zitadelOP) {
	t.Helper()
	redirect := "http://127.0.0.1/api/v1/auth/oidc/callback" // the tests carry the code over themselves
	op := startZitadelOP(t, "redress", "s3cret", redirect)
	issuer, err := auth.NewIssuer(testKey, testIssuer, testAudience)
	if err != nil {
		t.Fatal(err)
	}
	o, err := auth.NewOIDC(auth.OIDCConfig{Issuer: op.URL, ClientID: op.clientID, ClientSecret: op.secret,
		RedirectURL: redirect, Scopes: []string{"profile"}, LoginClaim: loginClaim, RolesClaim: "redress_roles"}, issuer)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, db, envOptions{oidc: o})
	e.http.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return e, op
}

// TestOIDCSignInZitadel signs in through a real provider with PKCE and REDRESS_OIDC_LOGIN_CLAIM=sub:
// the signed-in user keeps the roles redress gave them (no roles claim from this provider),
// their token works within those roles, a disabled user is refused, and with the default
// claim (preferred_username, which this provider leaves out) the sign-in fails as documented.
// Role claims, nonce and audience tampering need a provider that misbehaves on demand: those
// cases stay with auth/oidctest (TestOIDCSignIn).
func TestOIDCSignInZitadel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, op := newZitadelEnv(t, db, "sub")
		for _, u := range []map[string]any{
			{"login": "id1", "name": "测试用户一", "roles": []map[string]string{{"role": "officer", "unit": "sz-ft-tax"}}},
			{"login": "id2", "name": "测试用户二", "roles": []map[string]string{{"role": "officer", "unit": "sz-ft-tax"}}},
		} {
			wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/admin/users", login: "sz-admin", body: u}), http.StatusCreated)
		}

		v := op.signIn(t, e, "test-user@127.0.0.1", "verysecure")
		if v.Get("token") == "" || v.Get("error") != "" {
			t.Fatalf("hand-off %v", v)
		}
		me := e.do(t, request{method: "GET", path: "/api/v1/me", auth: "Bearer " + v.Get("token")})
		wantStatus(t, me, http.StatusOK)
		var who struct {
			Login string
			Roles []struct {
				Role string
				Unit struct{ Code string }
			}
		}
		me.decode(t, &who)
		if who.Login != "id1" || len(who.Roles) != 1 || who.Roles[0].Role != "officer" || who.Roles[0].Unit.Code != "sz-ft-tax" {
			t.Fatalf("signed in as %+v, want id1, officer of sz-ft-tax (roles kept: no roles claim)", who)
		}
		// The token is good for the user's work, not beyond it.
		wantStatus(t, e.do(t, request{method: "GET", path: "/api/v1/work-orders", auth: "Bearer " + v.Get("token")}), http.StatusOK)
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/admin/users", auth: "Bearer " + v.Get("token")}), http.StatusForbidden, "forbidden", "")
		if n := e.count(t, "audit_log", "action = ? AND login = ? AND outcome = ?", "oidc_sign_in", "id1", "ok"); n != 1 {
			t.Errorf("%d audited sign-ins of id1", n)
		}

		// A disabled user is refused after the provider vouched for them.
		wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/admin/users/id2/disable", login: "sz-admin"}), http.StatusOK)
		if v := op.signIn(t, e, "test-user2", "verysecure"); v.Get("token") != "" || v.Get("error") != "unknown_user" {
			t.Fatalf("disabled user: hand-off %v, want error unknown_user", v)
		}
	})
}

// TestOIDCZitadelDefaultClaim: with the default login claim the zitadel provider's ID token
// names no login, and the sign-in fails with sign_in_failed (the README says to set
// REDRESS_OIDC_LOGIN_CLAIM=sub for such a provider).
func TestOIDCZitadelDefaultClaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, op := newZitadelEnv(t, db, "")
		if v := op.signIn(t, e, "test-user@127.0.0.1", "verysecure"); v.Get("token") != "" || v.Get("error") != "sign_in_failed" {
			t.Fatalf("hand-off %v, want error sign_in_failed", v)
		}
	})
}
