// Command etcd is upstream etcd's main (go.etcd.io/etcd/v3/main.go) built
// against the published server module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
