;; 1000 pages at start and a grow by 60000 more: against a config's
;; max_memory.
(module
  (memory (export "memory") 1000 65536)
  (func (export "run") (drop (memory.grow (i32.const 60000)))))
