package protocol

import (
	"reflect"
	"testing"

	"github.com/dvpkit/dvp/sdk"
)

func TestCheckMigrations(t *testing.T) {
	problems, ids := CheckMigrations([]MigrationDecl{
		{Kind: KindRepository, ID: "10.1", Function: "a"},
		{Kind: KindSnapshot, ID: "2019.04.01", Function: "b"},
		{Kind: KindSnapshot, ID: "2019.4.1.0", Function: "c"},
		{Kind: KindRepository, ID: "1.9", Type: sdk.LuaMigration, Function: "d"},
		{Kind: KindRepository, ID: "4.10.4", Function: "e", NoFunc: true},
	})
	want := []MigrationProblem{
		{2, "The migration id '2019.4.1.0' used in the function 'c' has the same canonical form '2019.4.1' as another migration."},
		{4, "The migration '4.10.4' registered for 'upgrade.repository()' has no function."},
	}
	if !reflect.DeepEqual(problems, want) {
		t.Errorf("problems: %+v", problems)
	}
	if !reflect.DeepEqual(ids, []string{"4.10.4", "10.1", "2019.4.1"}) {
		t.Errorf("ids: %v (sorted numerically, canonical, Lua versions left out)", ids)
	}
}
