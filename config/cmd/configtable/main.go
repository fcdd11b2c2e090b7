// Command configtable prints the README's configuration table (config.MarkdownTable), to be
// pasted between the README's config-table markers.
package main

import (
	"fmt"

	"redress/config"
)

func main() { fmt.Print(config.MarkdownTable()) }
