// Command templates renders an HTML page from a template it reads from a
// mounted directory, with the site's name from its environment: the two
// grants a plugin gets only when the operator gives them (plugin.mounts
// and plugin.env).
package main

import (
	"bytes"
	"html/template"
	"os"

	"github.com/wasmcluster/wasmcluster/abi/guest"
)

// templatePath is where the operator mounts the templates directory.
const templatePath = "/templates/page.html"

// page is parsed on the first request of each instance, so a missing
// mount is explained in the answer rather than failing the load.
var page *template.Template

func init() {
	guest.HandleFunc(func(w guest.ResponseWriter, r *guest.Request) {
		if page == nil {
			src, err := os.ReadFile(templatePath)
			if err == nil {
				page, err = template.New("page").Parse(string(src))
			}
			if err != nil {
				w.Header().Set("content-type", "text/plain; charset=utf-8")
				w.WriteHeader(500)
				w.WriteString("cannot load " + templatePath + " (mount a directory at /templates): " + err.Error() + "\n")
				return
			}
		}
		site := os.Getenv("SITE_NAME")
		if site == "" {
			site = "an unnamed site"
		}
		var b bytes.Buffer
		if err := page.Execute(&b, map[string]string{"Site": site, "Path": r.Path()}); err != nil {
			w.WriteHeader(500)
			w.WriteString("render: " + err.Error() + "\n")
			return
		}
		w.Header().Set("content-type", "text/html; charset=utf-8")
		w.Write(b.Bytes())
	})
}

func main() {}
