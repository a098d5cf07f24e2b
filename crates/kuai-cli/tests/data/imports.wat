;; Needs an import that `kuai run` does not provide.
(module
  (import "env" "f" (func))
  (func (export "g")))
