;; An import the runtime does not have: compiles, fails to spawn.
(module
  (import "lunatic::nope" "x" (func))
  (func (export "run")))
