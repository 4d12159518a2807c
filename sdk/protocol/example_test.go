package protocol_test

import (
	"fmt"

	"github.com/dvpkit/dvp/sdk"
	"github.com/dvpkit/dvp/sdk/protocol"
)

// A platform migration id is dotted numbers, compared by its canonical
// form: "2019.04.01" and "2019.4.1" are the same id, and trailing zeros
// do not count.
func ExampleCanonicalMigrationID() {
	for _, id := range []string{"2019.04.01", "50.0.0", "1.x", "0.0"} {
		c, err := protocol.CanonicalMigrationID(id)
		fmt.Printf("%q: %q %v\n", id, c, err != nil)
	}
	// Output:
	// "2019.04.01": "2019.4.1" false
	// "50.0.0": "50" false
	// "1.x": "" true
	// "0.0": "" true
}

// Build numbers compare part by part, as numbers: an upload may not lower
// the build number of the installed plugin.
func ExampleCompareBuildNumbers() {
	fmt.Println(protocol.CompareBuildNumbers("1.10", "1.9"))
	fmt.Println(protocol.CompareBuildNumbers("2.0", "2"))
	fmt.Println(protocol.CompareBuildNumbers("0.9.9", "1"))
	// Output:
	// 1
	// 0
	// -1
}

// The registration rules of migrations: the same id in two spellings is
// one id registered twice, wherever it is registered.
func ExampleCheckMigrations() {
	problems, ids := protocol.CheckMigrations([]protocol.MigrationDecl{
		{Kind: protocol.KindRepository, ID: "2019.04.01", Type: sdk.PlatformMigration, Function: "addPort"},
		{Kind: protocol.KindSnapshot, ID: "2019.4.1", Type: sdk.PlatformMigration, Function: "renameField"},
		{Kind: protocol.KindSnapshot, ID: "2020.1", Type: sdk.PlatformMigration, Function: "dropField"},
	})
	fmt.Println(len(problems), problems[0].Index, problems[0].Message)
	fmt.Println(ids)
	// Output:
	// 1 1 The migration id '2019.4.1' used in the function 'renameField' has the same canonical form '2019.4.1' as another migration.
	// [2019.4.1 2020.1]
}
