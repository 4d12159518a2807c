package core

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// AdminUser is the engine's one user.
const AdminUser = "admin"

// Password hashes are bcrypt over the base64 of the password's SHA-256, so
// that passwords longer than bcrypt's 72 bytes are not truncated.
const hashPrefix = "bcrypt-sha256$"

func preHash(password string) []byte {
	sum := sha256.Sum256([]byte(password))
	return []byte(base64.StdEncoding.EncodeToString(sum[:]))
}

func hashPassword(password string, cost int) (string, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword(preHash(password), cost)
	if err != nil {
		return "", err
	}
	return hashPrefix + string(h), nil
}

// dummyHashes holds, per bcrypt cost, the hash compared against when the
// user does not exist, so that a wrong user name costs as much time as a
// wrong password: it has the cost the engine hashes passwords with. Each is
// made on the first failed login (not at init: every dvp command would pay).
var dummyHashes sync.Map // int -> string

func dummyHash(cost int) string {
	if h, ok := dummyHashes.Load(cost); ok {
		return h.(string)
	}
	var pw [16]byte
	_, _ = rand.Read(pw[:])
	h, err := hashPassword(base64.StdEncoding.EncodeToString(pw[:]), cost)
	if err != nil {
		h = hashPrefix // checkPassword fails on it
	}
	v, _ := dummyHashes.LoadOrStore(cost, h)
	return v.(string)
}

func checkPassword(stored, password string) bool {
	h, ok := strings.CutPrefix(stored, hashPrefix)
	if !ok {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(h), preHash(password)) == nil
}

// GeneratePassword returns a random password of 20 characters from an
// alphabet without look-alikes (about 100 bits).
func GeneratePassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)] // 256 % 56 bias is negligible here
	}
	return string(b)
}

// EnsureAdmin sets the admin's password to password; with none, it keeps
// the stored one, or on first start generates one and returns it.
func (e *Engine) EnsureAdmin(ctx context.Context, password string) (string, error) {
	pw := password
	generated := ""
	if pw == "" {
		ok, err := e.store.HasUser(ctx, AdminUser)
		if err != nil || ok {
			return "", err
		}
		pw = GeneratePassword()
		generated = pw
	}
	h, err := hashPassword(pw, e.cfg.BcryptCost)
	if err != nil {
		return "", err
	}
	return generated, e.store.SetUser(ctx, AdminUser, h, e.cfg.Clock())
}

// Login checks a user's password and returns the user's reference
// (USER-n); ok is false when the user or the password is wrong. A wrong
// user name costs as much time as a wrong password.
func (e *Engine) Login(ctx context.Context, username, password string) (userRef string, ok bool) {
	id, hash, err := e.store.User(ctx, username)
	if err != nil {
		hash = dummyHash(e.cfg.BcryptCost)
	}
	if !checkPassword(hash, password) || err != nil {
		return "", false
	}
	return fmt.Sprintf("USER-%d", id), true
}
