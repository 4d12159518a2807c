package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/libs"
	"github.com/dvpkit/dvp/sdk/protocol"
	"github.com/dvpkit/dvp/sdk/types"
)

// Call is one platform-library call the plugin made, decoded from the JSON
// the engine would receive. Method is the wire name (protocol.MethodRunBash
// "run_bash", "run_powershell", "run_expect", "run_sync",
// "retrieve_credentials", "upgrade_password"); the other fields are the
// call's arguments, those of other methods left empty.
type Call struct {
	Method string
	// Operation is the operation that made the call ("" for calls made
	// with Platform.Context; "upgrade" for data migrations).
	Operation string

	Connection    sdk.RemoteConnection // run_bash, run_powershell, run_expect, run_sync
	Command       string               // run_bash, run_powershell, run_expect
	Variables     map[string]string    // run_bash, run_powershell, run_expect
	UseLoginShell bool                 // run_bash

	SourceDirectory  string   // run_sync
	RsyncUser        string   // run_sync
	ExcludePaths     []string // run_sync
	SymLinksToFollow []string // run_sync

	CredentialsSupplier json.RawMessage // retrieve_credentials

	Password string // upgrade_password
	Username string // upgrade_password
}

// LogRecord is a record the plugin logged: Level is the engine's level
// (DEBUG, INFO or ERROR, see libs.EngineLevel), Message the text the engine
// keeps (message and attributes).
type LogRecord struct {
	Operation string
	Level     string
	Message   string
}

// Matcher selects the library calls a rule answers.
type Matcher func(Call) bool

// AnyCall matches every call.
func AnyCall() Matcher { return func(Call) bool { return true } }

// Command matches a script whose command is exactly cmd.
func Command(cmd string) Matcher { return func(c Call) bool { return c.Command == cmd } }

// CommandContains matches a script whose command contains s.
func CommandContains(s string) Matcher {
	return func(c Call) bool { return strings.Contains(c.Command, s) }
}

// CommandMatches matches a script whose command matches the regular
// expression re (which must compile).
func CommandMatches(re string) Matcher {
	r := regexp.MustCompile(re)
	return func(c Call) bool { return r.MatchString(c.Command) }
}

// SourceDirectory matches a RunSync of the directory dir.
func SourceDirectory(dir string) Matcher {
	return func(c Call) bool { return c.SourceDirectory == dir }
}

// Rule is a scripted answer to the library calls of one method that its
// matcher selects. Rules are tried in the order they were added; the first
// that matches and has uses left answers.
type Rule struct {
	method string
	match  Matcher
	result any // encoded as the engine's answer
	fail   *protocol.ErrorBody
	left   int // uses left; < 0 is unlimited
	used   int
}

// Times limits the rule to n calls (n >= 1); later calls go to the next
// matching rule.
func (r *Rule) Times(n int) *Rule {
	r.left = n
	return r
}

// Fails makes the rule answer with an engine error instead of a result:
// the library returns a *libs.LibraryError with this ID and Message (for
// example id "unreachable" for an environment the engine cannot reach).
func (r *Rule) Fails(id, message string) *Rule {
	r.fail = &protocol.ErrorBody{Kind: protocol.KindLibrary, ID: id, Message: message}
	return r
}

// Used returns how many calls the rule answered.
func (r *Rule) Used() int { return r.used }

func (p *Platform) add(method string, m Matcher, result any) *Rule {
	if m == nil {
		m = AnyCall()
	}
	r := &Rule{method: method, match: m, result: result, left: -1}
	p.mu.Lock()
	p.rules = append(p.rules, r)
	p.mu.Unlock()
	return r
}

// OnRunBash answers the RunBash calls m matches with res.
func (p *Platform) OnRunBash(m Matcher, res libs.RunResult) *Rule {
	return p.add(protocol.MethodRunBash, m, res)
}

// OnRunPowershell answers the RunPowershell calls m matches with res.
func (p *Platform) OnRunPowershell(m Matcher, res libs.RunResult) *Rule {
	return p.add(protocol.MethodRunPowershell, m, res)
}

// OnRunExpect answers the RunExpect calls m matches with res.
func (p *Platform) OnRunExpect(m Matcher, res libs.RunResult) *Rule {
	return p.add(protocol.MethodRunExpect, m, res)
}

// OnRunSync makes the RunSync calls m matches succeed (or fail, with
// Fails).
func (p *Platform) OnRunSync(m Matcher) *Rule {
	return p.add(protocol.MethodRunSync, m, nil)
}

// OnRetrieveCredentials answers the RetrieveCredentials calls m matches
// with creds (an sdk.PasswordCredentials or sdk.KeyPairCredentials).
func (p *Platform) OnRetrieveCredentials(m Matcher, creds sdk.Credentials) *Rule {
	var res protocol.CredentialsResult
	switch c := creds.(type) {
	case sdk.PasswordCredentials:
		res = protocol.CredentialsResult{Username: c.Username, Password: c.Password}
	case sdk.KeyPairCredentials:
		res = protocol.CredentialsResult{Username: c.Username, PrivateKey: c.PrivateKey, PublicKey: c.PublicKey}
	case nil:
		p.t.Fatal("plugintest: OnRetrieveCredentials needs credentials (sdk.PasswordCredentials or sdk.KeyPairCredentials)")
	default:
		p.t.Fatalf("plugintest: OnRetrieveCredentials: %T is not sdk.PasswordCredentials or sdk.KeyPairCredentials", creds)
	}
	return p.add(protocol.MethodRetrieveCredentials, m, res)
}

// OnUpgradePassword answers the UpgradePassword calls m matches with the
// credentials supplier object supplier (JSON).
func (p *Platform) OnUpgradePassword(m Matcher, supplier json.RawMessage) *Rule {
	return p.add(protocol.MethodUpgradePassword, m, protocol.UpgradePasswordResult{CredentialsSupplier: supplier})
}

// Calls returns the library calls made so far (logging left out), in order.
func (p *Platform) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// CallsTo returns the calls of one method ("run_bash", ...), in order.
func (p *Platform) CallsTo(method string) []Call {
	var out []Call
	for _, c := range p.Calls() {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Logs returns the records logged so far, in order.
func (p *Platform) Logs() []LogRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]LogRecord(nil), p.logs...)
}

// caller is the library channel of one operation run: it receives the
// requests that libs would send to an engine.
type caller struct {
	p  *Platform
	op string
}

// The engine's error ids of the fake platform's refusals (see
// docs/runtime-protocol.md).
const (
	errNotAllowed = "not_allowed"
	errBadRequest = "bad_request"
)

// ErrUnexpectedCall is the ID of the *libs.LibraryError that a library call
// gets when no rule of the platform answers it (the test fails as well).
const ErrUnexpectedCall = "plugintest.unexpected_call"

func (c *caller) Call(_ context.Context, method string, params, result any) error {
	p := c.p
	raw, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("encoding the arguments of %s: %w", method, err)
	}
	fail := func(id, msg string) error {
		return &protocol.ErrorBody{Kind: protocol.KindLibrary, ID: id, Message: msg}
	}
	if method == protocol.MethodLog {
		var lp protocol.LogParams
		if err := types.Unmarshal(raw, &lp); err != nil {
			return fail(errBadRequest, "The params of log are invalid: "+err.Error())
		}
		p.mu.Lock()
		p.logs = append(p.logs, LogRecord{Operation: c.op, Level: lp.Level, Message: lp.Message})
		p.mu.Unlock()
		return nil
	}
	// The engine's rules for data migrations.
	if c.op == protocol.OperationUpgrade && method != protocol.MethodUpgradePassword {
		return fail(errNotAllowed, fmt.Sprintf(
			"The platform library %s cannot be used in a data migration: only upgrade_password and logging are allowed.", method))
	}
	if c.op != protocol.OperationUpgrade && c.op != "" && method == protocol.MethodUpgradePassword {
		return fail(errNotAllowed, "The platform library upgrade_password can only be used in a data migration.")
	}
	call, err := decodeCall(method, raw)
	if err != nil {
		return fail(errBadRequest, fmt.Sprintf("The params of %s are invalid: %v", method, err))
	}
	call.Operation = c.op

	p.mu.Lock()
	p.calls = append(p.calls, call)
	var rule *Rule
	others, usedUp := 0, 0 // rules of this method that did not answer
	for _, r := range p.rules {
		if r.method != method {
			continue
		}
		if r.left != 0 && r.match(call) {
			rule = r
			if r.left > 0 {
				r.left--
			}
			r.used++
			break
		}
		others++
		if r.left == 0 && r.match(call) {
			usedUp++
		}
	}
	p.mu.Unlock()

	var answer any
	switch {
	case rule != nil && rule.fail != nil:
		return rule.fail
	case rule != nil:
		answer = rule.result
	case method == protocol.MethodUpgradePassword:
		s := map[string]string{"type": "NamedPasswordCredential", "password": call.Password}
		if call.Username != "" {
			s["username"] = call.Username
		}
		b, _ := json.Marshal(s)
		answer = protocol.UpgradePasswordResult{CredentialsSupplier: b}
	default:
		p.t.Errorf("plugintest: unexpected %s call%s: %s\n\t%s", method, inOp(c.op), describe(call), whyUnanswered(method, others, usedUp))
		return fail(ErrUnexpectedCall, fmt.Sprintf("plugintest: no rule answers this %s call", method))
	}
	if result == nil || answer == nil {
		return nil
	}
	b, err := json.Marshal(answer)
	if err != nil {
		return fmt.Errorf("plugintest: the scripted answer to %s does not encode: %w", method, err)
	}
	return types.Unmarshal(b, result)
}

// whyUnanswered says why no rule answered a call and how to script one.
func whyUnanswered(method string, others, usedUp int) string {
	on := onFunc(method)
	switch {
	case usedUp > 0:
		return fmt.Sprintf("%s matching it answered all the calls its Times allowed: raise Times, or add a rule with %s", plural(usedUp, "rule"), on)
	case others == 1:
		return fmt.Sprintf("the rule for %s does not match it: script it with %s (its matcher selects the call)", method, on)
	case others > 0:
		return fmt.Sprintf("none of the %s for %s matches it: script it with %s (its matcher selects the call)", plural(others, "rule"), method, on)
	}
	return fmt.Sprintf("no rule for %s was added: script it with %s", method, on)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func inOp(op string) string {
	if op == "" {
		return ""
	}
	return " in " + op + "()"
}

func onFunc(method string) string {
	switch method {
	case protocol.MethodRunBash:
		return "OnRunBash"
	case protocol.MethodRunPowershell:
		return "OnRunPowershell"
	case protocol.MethodRunExpect:
		return "OnRunExpect"
	case protocol.MethodRunSync:
		return "OnRunSync"
	case protocol.MethodRetrieveCredentials:
		return "OnRetrieveCredentials"
	}
	return "a rule"
}

func describe(c Call) string {
	switch c.Method {
	case protocol.MethodRunSync:
		return fmt.Sprintf("source directory %q on %s", c.SourceDirectory, c.Connection.Environment.Reference)
	case protocol.MethodRetrieveCredentials:
		return "supplier " + abbreviate(c.CredentialsSupplier)
	}
	return fmt.Sprintf("command %q on %s", c.Command, c.Connection.Environment.Reference)
}

func decodeCall(method string, raw json.RawMessage) (Call, error) {
	c := Call{Method: method}
	var err error
	switch method {
	case protocol.MethodRunBash:
		var p protocol.RunBashParams
		err = types.Unmarshal(raw, &p)
		c.Connection, c.Command, c.Variables, c.UseLoginShell = p.Connection, p.Command, p.Variables, p.UseLoginShell
	case protocol.MethodRunPowershell:
		var p protocol.RunPowershellParams
		err = types.Unmarshal(raw, &p)
		c.Connection, c.Command, c.Variables = p.Connection, p.Command, p.Variables
	case protocol.MethodRunExpect:
		var p protocol.RunExpectParams
		err = types.Unmarshal(raw, &p)
		c.Connection, c.Command, c.Variables = p.Connection, p.Command, p.Variables
	case protocol.MethodRunSync:
		var p protocol.RunSyncParams
		err = types.Unmarshal(raw, &p)
		c.Connection, c.SourceDirectory, c.RsyncUser, c.ExcludePaths, c.SymLinksToFollow =
			p.Connection, p.SourceDirectory, p.RsyncUser, p.ExcludePaths, p.SymLinksToFollow
	case protocol.MethodRetrieveCredentials:
		var p protocol.RetrieveCredentialsParams
		err = types.Unmarshal(raw, &p)
		c.CredentialsSupplier = p.CredentialsSupplier
	case protocol.MethodUpgradePassword:
		var p protocol.UpgradePasswordParams
		err = types.Unmarshal(raw, &p)
		c.Password, c.Username = p.Password, p.Username
	default:
		err = fmt.Errorf("'%s' is not a platform library", method)
	}
	return c, err
}
