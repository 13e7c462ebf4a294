// empty is the smallest Go guest: the kit's tests build it as a reactor
// and as a command.
package main

func main() {}
