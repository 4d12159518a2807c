package codegen

import "testing"

func TestGoName(t *testing.T) {
	cases := []struct {
		in, want string
		warn     bool
	}{
		{"mountLocation", "MountLocation", false},
		{"source_address", "SourceAddress", false},
		{"hostId", "HostID", false},
		{"serverURL", "ServerURL", false},
		{"httpPort", "HTTPPort", false},
		{"user-name", "UserName", false},
		{"name", "Name", false},
		{"sourceAddress", "SourceAddress", false},
		{"recordSizeInKB", "RecordSizeInKB", false},
		{"DBName", "DBName", false},
		{"dbURL", "DBURL", false},
		{"userID", "UserID", false},
		{"someIDs", "SomeIDs", false},
		{"user_ids", "UserIDs", false},
		{"URLsList", "URLsList", false},
		{"HTTPServerPort", "HTTPServerPort", false},
		{"HTTPSServer", "HTTPSServer", false},
		{"camelCASE", "CamelCASE", false},
		{"port2Name", "Port2Name", false},
		{"ipv4Address", "Ipv4Address", false},
		{"MyDB2Instance", "MyDB2Instance", false},
		{"dbNameV2", "DBNameV2", false},
		{"abc123def", "Abc123def", false},
		{"ID", "ID", false},
		{"MAX_VALUE", "MaxValue", false},
		{"HTTP_PORT", "HTTPPort", false},
		{"my.prop", "MyProp", false},
		{"my prop", "MyProp", false},
		{"_private", "Private", false},
		{"$ref", "Ref", false},
		{"type", "Type", false},
		{"func", "Func", false},
		{"Validate", "Validate", false},
		{"2fast", "X_2fast", true},
		{"", "X_Empty", true},
		{"$", "X_24", true},
		{"größe", "Größe", true},
		{"ñame", "Ñame", true},
		{"名前", "X_名前", true},
		{"😀", "X_F09F9880", true},
	}
	for _, c := range cases {
		got, note := goName(c.in)
		if got != c.want || (note != "") != c.warn {
			t.Errorf("goName(%q) = %q, %q; want %q (warning %v)", c.in, got, note, c.want, c.warn)
		}
		if !isIdentifier(got) {
			t.Errorf("goName(%q) = %q is not an identifier", c.in, got)
		}
	}
}

func TestNamespace(t *testing.T) {
	ns := newNamespace("Validate")
	for _, c := range []struct{ in, want string }{{"A", "A"}, {"A", "A_2"}, {"A", "A_3"}, {"Validate", "Validate_2"}} {
		if got, _ := ns.take(c.in); got != c.want {
			t.Errorf("take(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestValidTagName(t *testing.T) {
	for s, want := range map[string]bool{"a": true, "a-b": true, "a b": true, "größe": true, "": false, "a,b": false, `a"b`: false, "a'b": false, "a\\b": false, "😀": false} {
		if got := validTagName(s); got != want {
			t.Errorf("validTagName(%q) = %v", s, got)
		}
	}
}
