package resources_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/litentry/envctl/pkg/resources"
)

// TestDocsListEveryAttribute keeps docs/resources true: every registered
// type has a page whose attribute table lists every attribute, saying
// "forces replacement" exactly for those that do, and every export.
func TestDocsListEveryAttribute(t *testing.T) {
	for _, typ := range resources.Types() {
		data, err := os.ReadFile(filepath.Join("../../docs/resources", typ+".md"))
		if err != nil {
			t.Errorf("%s: no reference page: %v", typ, err)
			continue
		}
		doc := string(data)
		s := resources.SchemaFor(typ)
		for _, a := range s.Attrs {
			row := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(a.Name) + "` \\|.*$").FindString(doc)
			if row == "" {
				t.Errorf("%s: attribute %q missing from the attributes table", typ, a.Name)
				continue
			}
			if replaces := strings.Contains(row, "forces replacement"); replaces != a.ForceNew {
				t.Errorf("%s.%s: the page says forces replacement = %v, the schema says %v", typ, a.Name, replaces, a.ForceNew)
			}
		}
		for _, e := range s.Exports {
			if !strings.Contains(doc, "`"+e+"`") {
				t.Errorf("%s: export %q not documented", typ, e)
			}
		}
	}
}
