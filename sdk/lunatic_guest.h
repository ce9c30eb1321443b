/*
 * lunatic_guest.h - the C guest SDK for lunatic: every lunatic::* host
 * function, declared with its exact wasm signature, and a small C layer
 * (prefix lg_) over them. Header only.
 *
 * Build a guest with
 *   clang --target=wasm32-wasi --sysroot=/usr -O2 -I sdk -o prog.wasm prog.c
 * and run it with `lunatic run prog.wasm`. The main process is `_start`
 * (that is, main()). Any other process runs an exported function of a
 * module, spawned by its export name:
 *
 *   LG_EXPORT("worker") void worker(int64_t parent, int32_t n) { ... }
 *   uint64_t pid = lg_spawn("worker", LG_ARGS(LG_I64(lg_self()), LG_I32(3)));
 *
 * LG_EXPORT(name) is __attribute__((export_name(name))). Entry functions
 * return nothing and take only i32/i64 (int32_t/uint32_t, int64_t/uint64_t)
 * parameters. A spawned process starts in a fresh instance: globals and the
 * heap are those of a newly loaded module, main() has not run. (wasm-ld
 * wraps every export of a command module so that it runs the constructors
 * before and the stdio flush after; wasi-libc's preopen table is built by
 * such a constructor, so files work in children too.)
 *
 * Raw imports are named lgi_<module>_<function> ("lunatic guest import",
 * apart from the host's embedding API, lunatic_*): lunatic::process::spawn
 * is lgi_process_spawn. Pointer parameters
 * are pointer types: on wasm32 they are the i32 offsets the ABI takes.
 * Ids written through out-pointers are u64 little-endian (ABI.md §1.3).
 * Return codes: 0 success, 1 error (an error id is written instead of the
 * result), 9027 timeout. Declaring an import costs nothing: the linker only
 * keeps the ones a program calls.
 *
 * Output: stdout of wasi-libc is fully buffered when not a terminal, and a
 * process that traps or is killed never flushes it. lg_printf formats one
 * line and writes it with a single write(), so lines of different
 * processes never mix and nothing is lost.
 *
 * The SDK defines the export _lunatic_catch_trap (weak, so the header may
 * be included by several files of one program); lunatic::trap::catch calls
 * it. Define LG_NO_CATCH_TRAP before including to leave it out. It also
 * defines the export lunatic_alloc (weak; malloc), through which the
 * host's allocating calls (lunatic::sqlite's reads, ABI.md 1.3) hand
 * their results over; LG_NO_LUNATIC_ALLOC leaves it out.
 */
#ifndef LUNATIC_GUEST_H
#define LUNATIC_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LG_IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define LG_EXPORT(name) __attribute__((export_name(name)))

/* ---- lunatic::error ---------------------------------------------------- */
LG_IMPORT("lunatic::error", "string_size") uint32_t lgi_error_string_size(uint64_t error_id);
LG_IMPORT("lunatic::error", "to_string") void lgi_error_to_string(uint64_t error_id, char *out);
LG_IMPORT("lunatic::error", "drop") void lgi_error_drop(uint64_t error_id);

/* ---- lunatic::message -------------------------------------------------- */
LG_IMPORT("lunatic::message", "create_data") void lgi_message_create_data(int64_t tag, uint64_t capacity);
LG_IMPORT("lunatic::message", "write_data") uint32_t lgi_message_write_data(const void *data, uint32_t len);
LG_IMPORT("lunatic::message", "read_data") uint32_t lgi_message_read_data(void *data, uint32_t len);
LG_IMPORT("lunatic::message", "seek_data") void lgi_message_seek_data(uint64_t index);
LG_IMPORT("lunatic::message", "get_tag") int64_t lgi_message_get_tag(void);
LG_IMPORT("lunatic::message", "get_process_id") uint64_t lgi_message_get_process_id(void);
LG_IMPORT("lunatic::message", "data_size") uint64_t lgi_message_data_size(void);
LG_IMPORT("lunatic::message", "push_module") uint64_t lgi_message_push_module(uint64_t module_id);
LG_IMPORT("lunatic::message", "take_module") uint64_t lgi_message_take_module(uint64_t index);
LG_IMPORT("lunatic::message", "push_tcp_stream") uint64_t lgi_message_push_tcp_stream(uint64_t stream_id);
LG_IMPORT("lunatic::message", "take_tcp_stream") uint64_t lgi_message_take_tcp_stream(uint64_t index);
LG_IMPORT("lunatic::message", "push_tls_stream") uint64_t lgi_message_push_tls_stream(uint64_t stream_id);
LG_IMPORT("lunatic::message", "take_tls_stream") uint64_t lgi_message_take_tls_stream(uint64_t index);
LG_IMPORT("lunatic::message", "push_udp_socket") uint64_t lgi_message_push_udp_socket(uint64_t socket_id);
LG_IMPORT("lunatic::message", "take_udp_socket") uint64_t lgi_message_take_udp_socket(uint64_t index);
LG_IMPORT("lunatic::message", "send") uint32_t lgi_message_send(uint64_t pid);
LG_IMPORT("lunatic::message", "send_receive_skip_search")
uint32_t lgi_message_send_receive_skip_search(uint64_t pid, int64_t wait_tag, uint64_t timeout_ms);
LG_IMPORT("lunatic::message", "receive")
uint32_t lgi_message_receive(const int64_t *tags, uint32_t tags_count, uint64_t timeout_ms);

/* ---- lunatic::process -------------------------------------------------- */
LG_IMPORT("lunatic::process", "compile_module")
int32_t lgi_process_compile_module(const void *data, uint32_t len, uint64_t *id_out);
LG_IMPORT("lunatic::process", "drop_module") void lgi_process_drop_module(uint64_t module_id);
LG_IMPORT("lunatic::process", "create_config") int64_t lgi_process_create_config(void);
LG_IMPORT("lunatic::process", "drop_config") void lgi_process_drop_config(uint64_t config_id);
LG_IMPORT("lunatic::process", "config_set_max_memory")
void lgi_process_config_set_max_memory(uint64_t config_id, uint64_t bytes);
LG_IMPORT("lunatic::process", "config_get_max_memory")
uint64_t lgi_process_config_get_max_memory(uint64_t config_id);
LG_IMPORT("lunatic::process", "config_set_max_fuel")
void lgi_process_config_set_max_fuel(uint64_t config_id, uint64_t units);
LG_IMPORT("lunatic::process", "config_get_max_fuel")
uint64_t lgi_process_config_get_max_fuel(uint64_t config_id);
LG_IMPORT("lunatic::process", "config_can_compile_modules")
uint32_t lgi_process_config_can_compile_modules(uint64_t config_id);
LG_IMPORT("lunatic::process", "config_set_can_compile_modules")
void lgi_process_config_set_can_compile_modules(uint64_t config_id, uint32_t can);
LG_IMPORT("lunatic::process", "config_can_create_configs")
uint32_t lgi_process_config_can_create_configs(uint64_t config_id);
LG_IMPORT("lunatic::process", "config_set_can_create_configs")
void lgi_process_config_set_can_create_configs(uint64_t config_id, uint32_t can);
LG_IMPORT("lunatic::process", "config_can_spawn_processes")
uint32_t lgi_process_config_can_spawn_processes(uint64_t config_id);
LG_IMPORT("lunatic::process", "config_set_can_spawn_processes")
void lgi_process_config_set_can_spawn_processes(uint64_t config_id, uint32_t can);
LG_IMPORT("lunatic::process", "spawn")
uint32_t lgi_process_spawn(int64_t link, int64_t config_id, int64_t module_id, const char *func,
                           uint32_t func_len, const void *params, uint32_t params_len,
                           uint64_t *id_out);
LG_IMPORT("lunatic::process", "get_or_spawn")
uint32_t lgi_process_get_or_spawn(const char *name, uint32_t name_len, int64_t link,
                                  int64_t config_id, int64_t module_id, const char *func,
                                  uint32_t func_len, const void *params, uint32_t params_len,
                                  uint64_t *node_id_out, uint64_t *id_out);
LG_IMPORT("lunatic::process", "sleep_ms") void lgi_process_sleep_ms(uint64_t ms);
LG_IMPORT("lunatic::process", "die_when_link_dies") void lgi_process_die_when_link_dies(uint32_t trap);
LG_IMPORT("lunatic::process", "process_id") uint64_t lgi_process_process_id(void);
LG_IMPORT("lunatic::process", "environment_id") uint64_t lgi_process_environment_id(void);
LG_IMPORT("lunatic::process", "link") void lgi_process_link(int64_t tag, uint64_t pid);
LG_IMPORT("lunatic::process", "unlink") void lgi_process_unlink(uint64_t pid);
LG_IMPORT("lunatic::process", "monitor") void lgi_process_monitor(uint64_t pid);
LG_IMPORT("lunatic::process", "stop_monitoring") void lgi_process_stop_monitoring(uint64_t pid);
LG_IMPORT("lunatic::process", "kill") void lgi_process_kill(uint64_t pid);
LG_IMPORT("lunatic::process", "exists") uint32_t lgi_process_exists(uint64_t pid);

/* ---- lunatic::registry ------------------------------------------------- */
LG_IMPORT("lunatic::registry", "put")
void lgi_registry_put(const char *name, uint32_t name_len, uint64_t node_id, uint64_t pid);
LG_IMPORT("lunatic::registry", "get")
uint32_t lgi_registry_get(const char *name, uint32_t name_len, uint64_t *node_id_out, uint64_t *pid_out);
LG_IMPORT("lunatic::registry", "remove") void lgi_registry_remove(const char *name, uint32_t name_len);

/* ---- lunatic::timer ---------------------------------------------------- */
LG_IMPORT("lunatic::timer", "send_after") uint64_t lgi_timer_send_after(uint64_t pid, uint64_t delay_ms);
LG_IMPORT("lunatic::timer", "cancel_timer") uint32_t lgi_timer_cancel_timer(uint64_t timer_id);

/* ---- lunatic::networking ------------------------------------------------
 * Addresses: addr_type 4 (4 bytes at addr) or 6 (16 bytes + flow_info,
 * scope_id). Returned addresses are DNS-iterator resources. */
LG_IMPORT("lunatic::networking", "resolve")
uint32_t lgi_networking_resolve(const char *name, uint32_t name_len, uint64_t timeout_ms, uint64_t *id_out);
LG_IMPORT("lunatic::networking", "drop_dns_iterator") void lgi_networking_drop_dns_iterator(uint64_t id);
LG_IMPORT("lunatic::networking", "resolve_next")
uint32_t lgi_networking_resolve_next(uint64_t iter_id, uint32_t *addr_type_out, uint8_t *addr_out,
                                     uint16_t *port_out, uint32_t *flow_info_out, uint32_t *scope_id_out);
LG_IMPORT("lunatic::networking", "tcp_bind")
uint32_t lgi_networking_tcp_bind(uint32_t addr_type, const uint8_t *addr, uint32_t port,
                                 uint32_t flow_info, uint32_t scope_id, uint64_t *id_out);
LG_IMPORT("lunatic::networking", "drop_tcp_listener") void lgi_networking_drop_tcp_listener(uint64_t id);
LG_IMPORT("lunatic::networking", "tcp_local_addr")
uint32_t lgi_networking_tcp_local_addr(uint64_t listener_id, uint64_t *id_out);
LG_IMPORT("lunatic::networking", "tcp_accept")
uint32_t lgi_networking_tcp_accept(uint64_t listener_id, uint64_t *id_out, uint64_t *peer_iter_out);
LG_IMPORT("lunatic::networking", "tcp_connect")
uint32_t lgi_networking_tcp_connect(uint32_t addr_type, const uint8_t *addr, uint32_t port,
                                    uint32_t flow_info, uint32_t scope_id, uint64_t timeout_ms,
                                    uint64_t *id_out);
LG_IMPORT("lunatic::networking", "tcp_peer_addr")
uint32_t lgi_networking_tcp_peer_addr(uint64_t stream_id, uint64_t *id_out);
LG_IMPORT("lunatic::networking", "drop_tcp_stream") void lgi_networking_drop_tcp_stream(uint64_t id);
LG_IMPORT("lunatic::networking", "clone_tcp_stream") uint64_t lgi_networking_clone_tcp_stream(uint64_t id);
LG_IMPORT("lunatic::networking", "tcp_write_vectored")
uint32_t lgi_networking_tcp_write_vectored(uint64_t stream_id, const void *ciovecs,
                                           uint32_t ciovec_count, uint64_t *opaque_out);
LG_IMPORT("lunatic::networking", "tcp_read")
uint32_t lgi_networking_tcp_read(uint64_t stream_id, void *buf, uint32_t len, uint64_t *opaque_out);
LG_IMPORT("lunatic::networking", "tcp_peek")
uint32_t lgi_networking_tcp_peek(uint64_t stream_id, void *buf, uint32_t len, uint64_t *opaque_out);
LG_IMPORT("lunatic::networking", "tcp_flush")
uint32_t lgi_networking_tcp_flush(uint64_t stream_id, uint64_t *error_id_out);
LG_IMPORT("lunatic::networking", "set_read_timeout") void lgi_networking_set_read_timeout(uint64_t id, uint64_t ms);
LG_IMPORT("lunatic::networking", "set_write_timeout") void lgi_networking_set_write_timeout(uint64_t id, uint64_t ms);
LG_IMPORT("lunatic::networking", "set_peek_timeout") void lgi_networking_set_peek_timeout(uint64_t id, uint64_t ms);
LG_IMPORT("lunatic::networking", "get_read_timeout") uint64_t lgi_networking_get_read_timeout(uint64_t id);
LG_IMPORT("lunatic::networking", "get_write_timeout") uint64_t lgi_networking_get_write_timeout(uint64_t id);
LG_IMPORT("lunatic::networking", "get_peek_timeout") uint64_t lgi_networking_get_peek_timeout(uint64_t id);
LG_IMPORT("lunatic::networking", "tls_bind")
uint32_t lgi_networking_tls_bind(uint32_t addr_type, const uint8_t *addr, uint32_t port,
                                 uint32_t flow_info, uint32_t scope_id, uint64_t *id_out,
                                 const char *cert_pem, uint32_t cert_len, const char *key_pem,
                                 uint32_t key_len);
LG_IMPORT("lunatic::networking", "drop_tls_listener") void lgi_networking_drop_tls_listener(uint64_t id);
LG_IMPORT("lunatic::networking", "tls_local_addr")
uint32_t lgi_networking_tls_local_addr(uint64_t listener_id, uint64_t *id_out);
LG_IMPORT("lunatic::networking", "tls_accept")
uint32_t lgi_networking_tls_accept(uint64_t listener_id, uint64_t *id_out, uint64_t *peer_iter_out);
/* certs: certs_count records {u32 ptr, u32 len}, each a PEM CA certificate. */
LG_IMPORT("lunatic::networking", "tls_connect")
uint32_t lgi_networking_tls_connect(const char *host, uint32_t host_len, uint32_t port,
                                    uint64_t timeout_ms, uint64_t *id_out, const void *certs,
                                    uint32_t certs_count);
LG_IMPORT("lunatic::networking", "drop_tls_stream") void lgi_networking_drop_tls_stream(uint64_t id);
LG_IMPORT("lunatic::networking", "clone_tls_stream") uint64_t lgi_networking_clone_tls_stream(uint64_t id);
LG_IMPORT("lunatic::networking", "tls_write_vectored")
uint32_t lgi_networking_tls_write_vectored(uint64_t stream_id, const void *ciovecs,
                                           uint32_t ciovec_count, uint64_t *opaque_out);
LG_IMPORT("lunatic::networking", "tls_read")
uint32_t lgi_networking_tls_read(uint64_t stream_id, void *buf, uint32_t len, uint64_t *opaque_out);
LG_IMPORT("lunatic::networking", "tls_flush")
uint32_t lgi_networking_tls_flush(uint64_t stream_id, uint64_t *error_id_out);
LG_IMPORT("lunatic::networking", "set_tls_read_timeout") void lgi_networking_set_tls_read_timeout(uint64_t id, uint64_t ms);
LG_IMPORT("lunatic::networking", "set_tls_write_timeout") void lgi_networking_set_tls_write_timeout(uint64_t id, uint64_t ms);
LG_IMPORT("lunatic::networking", "get_tls_read_timeout") uint64_t lgi_networking_get_tls_read_timeout(uint64_t id);
LG_IMPORT("lunatic::networking", "get_tls_write_timeout") uint64_t lgi_networking_get_tls_write_timeout(uint64_t id);
LG_IMPORT("lunatic::networking", "udp_bind")
uint32_t lgi_networking_udp_bind(uint32_t addr_type, const uint8_t *addr, uint32_t port,
                                 uint32_t flow_info, uint32_t scope_id, uint64_t *id_out);
LG_IMPORT("lunatic::networking", "udp_local_addr")
uint32_t lgi_networking_udp_local_addr(uint64_t socket_id, uint64_t *id_out);
/* 0 iterator, 1 NotConnected error id, 2 other error id. */
LG_IMPORT("lunatic::networking", "udp_peer_addr")
uint32_t lgi_networking_udp_peer_addr(uint64_t socket_id, uint64_t *id_out);
LG_IMPORT("lunatic::networking", "drop_udp_socket") void lgi_networking_drop_udp_socket(uint64_t id);
LG_IMPORT("lunatic::networking", "udp_receive")
uint32_t lgi_networking_udp_receive(uint64_t socket_id, void *buf, uint32_t len, uint64_t *opaque_out);
LG_IMPORT("lunatic::networking", "udp_receive_from")
uint32_t lgi_networking_udp_receive_from(uint64_t socket_id, void *buf, uint32_t len,
                                         uint64_t *opaque_out, uint64_t *iter_out);
LG_IMPORT("lunatic::networking", "udp_connect")
uint32_t lgi_networking_udp_connect(uint64_t socket_id, uint32_t addr_type, const uint8_t *addr,
                                    uint32_t port, uint32_t flow_info, uint32_t scope_id,
                                    uint64_t timeout_ms, uint64_t *id_out);
LG_IMPORT("lunatic::networking", "clone_udp_socket") uint64_t lgi_networking_clone_udp_socket(uint64_t id);
LG_IMPORT("lunatic::networking", "set_udp_socket_broadcast")
void lgi_networking_set_udp_socket_broadcast(uint64_t id, uint32_t broadcast);
LG_IMPORT("lunatic::networking", "get_udp_socket_broadcast")
uint32_t lgi_networking_get_udp_socket_broadcast(uint64_t id);
LG_IMPORT("lunatic::networking", "set_udp_socket_ttl") void lgi_networking_set_udp_socket_ttl(uint64_t id, uint32_t ttl);
LG_IMPORT("lunatic::networking", "get_udp_socket_ttl") uint32_t lgi_networking_get_udp_socket_ttl(uint64_t id);
LG_IMPORT("lunatic::networking", "udp_send_to")
uint32_t lgi_networking_udp_send_to(uint64_t socket_id, const void *buf, uint32_t len,
                                    uint32_t addr_type, const uint8_t *addr, uint32_t port,
                                    uint32_t flow_info, uint32_t scope_id, uint64_t *opaque_out);
LG_IMPORT("lunatic::networking", "udp_send")
uint32_t lgi_networking_udp_send(uint64_t socket_id, const void *buf, uint32_t len, uint64_t *opaque_out);

/* ---- lunatic::wasi (config mutators) ----------------------------------- */
LG_IMPORT("lunatic::wasi", "config_add_environment_variable")
void lgi_wasi_config_add_environment_variable(uint64_t config_id, const char *key, uint32_t key_len,
                                              const char *value, uint32_t value_len);
LG_IMPORT("lunatic::wasi", "config_add_command_line_argument")
void lgi_wasi_config_add_command_line_argument(uint64_t config_id, const char *arg, uint32_t len);
LG_IMPORT("lunatic::wasi", "config_preopen_dir")
void lgi_wasi_config_preopen_dir(uint64_t config_id, const char *dir, uint32_t len);

/* ---- lunatic::version -------------------------------------------------- */
LG_IMPORT("lunatic::version", "major") uint32_t lgi_version_major(void);
LG_IMPORT("lunatic::version", "minor") uint32_t lgi_version_minor(void);
LG_IMPORT("lunatic::version", "patch") uint32_t lgi_version_patch(void);

/* ---- lunatic::trap ----------------------------------------------------- */
/* Calls the export _lunatic_catch_trap(function, pointer); returns its
 * result, or 0 when that call trapped (the process survives). */
LG_IMPORT("lunatic::trap", "catch") int32_t lgi_trap_catch(int32_t function, int32_t pointer);

/* ---- lunatic::distributed ---------------------------------------------- */
LG_IMPORT("lunatic::distributed", "nodes_count") uint32_t lgi_distributed_nodes_count(void);
LG_IMPORT("lunatic::distributed", "get_nodes") uint32_t lgi_distributed_get_nodes(uint64_t *nodes, uint32_t max);
LG_IMPORT("lunatic::distributed", "node_id") uint64_t lgi_distributed_node_id(void);
LG_IMPORT("lunatic::distributed", "module_id") uint64_t lgi_distributed_module_id(void);
LG_IMPORT("lunatic::distributed", "exec_lookup_nodes")
uint32_t lgi_distributed_exec_lookup_nodes(const char *query, uint32_t query_len, uint64_t *query_id_out,
                                           uint64_t *nodes_len_out, uint64_t *error_id_out);
LG_IMPORT("lunatic::distributed", "copy_lookup_nodes_results")
int32_t lgi_distributed_copy_lookup_nodes_results(uint64_t query_id, uint64_t *nodes, uint32_t max,
                                                  uint64_t *error_id_out);
LG_IMPORT("lunatic::distributed", "spawn")
uint32_t lgi_distributed_spawn(uint64_t node_id, int64_t config_id, uint64_t module_id, const char *func,
                               uint32_t func_len, const void *params, uint32_t params_len,
                               uint64_t *id_out);
LG_IMPORT("lunatic::distributed", "send") uint32_t lgi_distributed_send(uint64_t node_id, uint64_t pid);
LG_IMPORT("lunatic::distributed", "send_receive_skip_search")
uint32_t lgi_distributed_send_receive_skip_search(uint64_t node_id, uint64_t pid, int64_t wait_tag,
                                                  uint64_t timeout_ms);
/* The next three return a buffer allocated with the export lunatic_alloc
 * and write its length at len_out (read 4 bytes). */
LG_IMPORT("lunatic::distributed", "test_root_cert") uint32_t lgi_distributed_test_root_cert(uint32_t *len_out);
LG_IMPORT("lunatic::distributed", "default_server_certificates")
uint32_t lgi_distributed_default_server_certificates(const char *ca_cert, uint32_t ca_cert_len,
                                                     const char *ca_key, uint32_t ca_key_len,
                                                     uint32_t *len_out);
LG_IMPORT("lunatic::distributed", "sign_node")
uint32_t lgi_distributed_sign_node(const char *ca_cert, uint32_t ca_cert_len, const char *ca_key,
                                   uint32_t ca_key_len, const char *csr, uint32_t csr_len,
                                   uint32_t *len_out);

/* ---- lunatic::metrics -------------------------------------------------- */
LG_IMPORT("lunatic::metrics", "counter") void lgi_metrics_counter(const char *name, uint32_t len, uint64_t value);
LG_IMPORT("lunatic::metrics", "increment_counter") void lgi_metrics_increment_counter(const char *name, uint32_t len);
LG_IMPORT("lunatic::metrics", "gauge") void lgi_metrics_gauge(const char *name, uint32_t len, double value);
LG_IMPORT("lunatic::metrics", "increment_gauge") void lgi_metrics_increment_gauge(const char *name, uint32_t len, double value);
LG_IMPORT("lunatic::metrics", "decrement_gauge") void lgi_metrics_decrement_gauge(const char *name, uint32_t len, double value);
LG_IMPORT("lunatic::metrics", "histogram") void lgi_metrics_histogram(const char *name, uint32_t len, double value);

/* ---- lunatic::sqlite ----------------------------------------------------
 * Allocating calls (last_error, read_column, read_row, column_name(s))
 * return a lunatic_alloc'ed buffer and write its length at len_out. */
LG_IMPORT("lunatic::sqlite", "open") uint64_t lgi_sqlite_open(const char *path, uint32_t path_len, uint64_t *conn_id_out);
LG_IMPORT("lunatic::sqlite", "query_prepare") uint64_t lgi_sqlite_query_prepare(uint64_t conn_id, const char *sql, uint32_t sql_len);
LG_IMPORT("lunatic::sqlite", "execute") uint32_t lgi_sqlite_execute(uint64_t conn_id, const char *sql, uint32_t sql_len);
LG_IMPORT("lunatic::sqlite", "bind_value") void lgi_sqlite_bind_value(uint64_t statement_id, const void *data, uint32_t len);
LG_IMPORT("lunatic::sqlite", "sqlite3_changes") uint32_t lgi_sqlite_sqlite3_changes(uint64_t conn_id);
LG_IMPORT("lunatic::sqlite", "statement_reset") void lgi_sqlite_statement_reset(uint64_t statement_id);
LG_IMPORT("lunatic::sqlite", "sqlite3_step") uint32_t lgi_sqlite_sqlite3_step(uint64_t statement_id);
LG_IMPORT("lunatic::sqlite", "sqlite3_finalize") void lgi_sqlite_sqlite3_finalize(uint64_t statement_id);
LG_IMPORT("lunatic::sqlite", "column_count") uint32_t lgi_sqlite_column_count(uint64_t statement_id);
LG_IMPORT("lunatic::sqlite", "last_error") uint32_t lgi_sqlite_last_error(uint64_t conn_id, uint32_t *len_out);
LG_IMPORT("lunatic::sqlite", "read_column")
uint32_t lgi_sqlite_read_column(uint64_t statement_id, uint32_t column, uint32_t *len_out);
LG_IMPORT("lunatic::sqlite", "read_row") uint32_t lgi_sqlite_read_row(uint64_t statement_id, uint32_t *len_out);
LG_IMPORT("lunatic::sqlite", "column_name")
uint32_t lgi_sqlite_column_name(uint64_t statement_id, uint32_t column, uint32_t *len_out);
LG_IMPORT("lunatic::sqlite", "column_names") uint32_t lgi_sqlite_column_names(uint64_t statement_id, uint32_t *len_out);

/* ======================================================================== *
 * The C layer.                                                             *
 * ======================================================================== */

#define LG_OK 0
#define LG_ERROR 1
#define LG_TIMEOUT 9027
#define LG_FOREVER UINT64_MAX /* no timeout */

/* Kinds returned by lg_receive (and the scratch message they leave). */
#define LG_DATA 0
#define LG_LINK_DIED 1
#define LG_PROCESS_DIED 2

#define LG_MINE (-1) /* config_id / module_id: the caller's own */

/* get_or_spawn results */
#define LG_SPAWNED 0
#define LG_FOUND 2

/* Stops the calling process with a trap (unreachable). */
#define lg_trap() __builtin_trap()

/* printf to stdout as a single write; returns the bytes written. Lines
 * longer than 1 KiB are cut. */
static inline int lg_vprintf(const char *fmt, va_list ap)
{
    char buf[1024];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0)
        return n;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    int off = 0;
    while (off < n) {
        ssize_t w = write(1, buf + off, (size_t)(n - off));
        if (w <= 0)
            return -1;
        off += (int)w;
    }
    return n;
}

__attribute__((format(printf, 1, 2))) static inline int lg_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = lg_vprintf(fmt, ap);
    va_end(ap);
    return n;
}

/* ---- processes --------------------------------------------------------- */

static inline uint64_t lg_self(void) { return lgi_process_process_id(); }
static inline uint64_t lg_environment_id(void) { return lgi_process_environment_id(); }
static inline int lg_exists(uint64_t pid) { return (int)lgi_process_exists(pid); }
static inline void lg_kill(uint64_t pid) { lgi_process_kill(pid); }
static inline void lg_link(int64_t tag, uint64_t pid) { lgi_process_link(tag, pid); }
static inline void lg_unlink(uint64_t pid) { lgi_process_unlink(pid); }
static inline void lg_monitor(uint64_t pid) { lgi_process_monitor(pid); }
static inline void lg_stop_monitoring(uint64_t pid) { lgi_process_stop_monitoring(pid); }
/* trap != 0 (the default): die when a linked process fails; 0: get a
 * LinkDied message with the link's tag instead. Takes effect at the next
 * signal the process handles. */
static inline void lg_die_when_link_dies(int trap) { lgi_process_die_when_link_dies(trap != 0); }
static inline void lg_sleep_ms(uint64_t ms) { lgi_process_sleep_ms(ms); }

/* One spawn parameter; the host receives 17-byte records [type][u128 LE]. */
typedef struct lg_param {
    uint8_t type; /* 0x7F i32, 0x7E i64 */
    int64_t value;
} lg_param;

#define LG_I32(v) ((lg_param){0x7F, (int64_t)(int32_t)(v)})
#define LG_I64(v) ((lg_param){0x7E, (int64_t)(v)})
/* LG_ARGS(LG_I64(a), LG_I32(b)) expands to "array, count"; use NULL, 0 for
 * no parameters. */
#define LG_ARGS(...) \
    ((const lg_param[]){__VA_ARGS__}), (sizeof((const lg_param[]){__VA_ARGS__}) / sizeof(lg_param))
#define LG_NOARGS NULL, 0

#define LG_MAX_PARAMS 16

/* Encodes params into out (17 bytes each, at most LG_MAX_PARAMS); returns
 * the byte length. Values are sign-extended to 128 bits. */
static inline uint32_t lg_encode_params(uint8_t *out, const lg_param *params, size_t n)
{
    if (n > LG_MAX_PARAMS)
        n = LG_MAX_PARAMS;
    for (size_t i = 0; i < n; i++) {
        uint8_t *r = out + 17 * i;
        uint64_t lo = (uint64_t)params[i].value;
        uint64_t hi = params[i].value < 0 ? UINT64_MAX : 0;
        r[0] = params[i].type;
        for (int b = 0; b < 8; b++) {
            r[1 + b] = (uint8_t)(lo >> (8 * b));
            r[9 + b] = (uint8_t)(hi >> (8 * b));
        }
    }
    return (uint32_t)(17 * n);
}

/* Spawns func(params) of module_id (LG_MINE: this module) with config_id
 * (LG_MINE: the caller's config). link != 0 links the child with that tag:
 * if the child fails, the caller gets LinkDied(tag) or dies with it.
 * Returns 0 with the pid in *out, or 1 with an error id in *out. Traps if
 * the caller may not spawn. */
static inline uint32_t lg_spawn_ex(int64_t link, int64_t config_id, int64_t module_id, const char *func,
                                   const lg_param *params, size_t n, uint64_t *out)
{
    uint8_t buf[17 * LG_MAX_PARAMS];
    uint32_t len = lg_encode_params(buf, params, n);
    return lgi_process_spawn(link, config_id, module_id, func, (uint32_t)strlen(func), buf, len, out);
}

/* Spawns an export of this module with the caller's config; returns the
 * pid, or 0 on a spawn error (the error is dropped). */
static inline uint64_t lg_spawn(const char *func, const lg_param *params, size_t n)
{
    uint64_t id;
    if (lg_spawn_ex(0, LG_MINE, LG_MINE, func, params, n, &id) != LG_OK) {
        lgi_error_drop(id);
        return 0;
    }
    return id;
}

/* The same, linked with tag (tag must not be 0). */
static inline uint64_t lg_spawn_link(int64_t tag, const char *func, const lg_param *params, size_t n)
{
    uint64_t id;
    if (lg_spawn_ex(tag, LG_MINE, LG_MINE, func, params, n, &id) != LG_OK) {
        lgi_error_drop(id);
        return 0;
    }
    return id;
}

/* Looks name up in the registry and returns LG_FOUND with its node and
 * pid, or spawns func and registers it (LG_SPAWNED), atomically. On a
 * spawn error returns 1 with an error id in *pid. */
static inline uint32_t lg_get_or_spawn(const char *name, int64_t link, int64_t config_id, int64_t module_id,
                                       const char *func, const lg_param *params, size_t n,
                                       uint64_t *node, uint64_t *pid)
{
    uint8_t buf[17 * LG_MAX_PARAMS];
    uint32_t len = lg_encode_params(buf, params, n);
    return lgi_process_get_or_spawn(name, (uint32_t)strlen(name), link, config_id, module_id, func,
                                    (uint32_t)strlen(func), buf, len, node, pid);
}

/* ---- messages ----------------------------------------------------------
 * One scratch message per process: lg_msg_create starts an outgoing one,
 * lg_receive leaves the received one there; the read/write calls work on
 * it. */

static inline void lg_msg_create(int64_t tag, uint64_t capacity) { lgi_message_create_data(tag, capacity); }
static inline uint32_t lg_msg_write(const void *p, size_t n) { return lgi_message_write_data(p, (uint32_t)n); }
static inline uint32_t lg_msg_read(void *p, size_t n) { return lgi_message_read_data(p, (uint32_t)n); }
static inline void lg_msg_seek(uint64_t index) { lgi_message_seek_data(index); }
static inline uint64_t lg_msg_size(void) { return lgi_message_data_size(); }
static inline int64_t lg_msg_tag(void) { return lgi_message_get_tag(); }
/* The pid of a ProcessDied message (0 for other kinds). */
static inline uint64_t lg_msg_pid(void) { return lgi_message_get_process_id(); }
static inline void lg_msg_send(uint64_t pid) { lgi_message_send(pid); }
static inline uint64_t lg_msg_push_module(uint64_t module_id) { return lgi_message_push_module(module_id); }
static inline uint64_t lg_msg_take_module(uint64_t index) { return lgi_message_take_module(index); }

static inline void lg_msg_write_u64(uint64_t v) { lg_msg_write(&v, sizeof v); }
static inline void lg_msg_write_str(const char *s) { lg_msg_write(s, strlen(s)); }

/* Reads a u64 from the scratch message (0 if fewer than 8 bytes remain). */
static inline uint64_t lg_msg_read_u64(void)
{
    uint64_t v = 0;
    if (lg_msg_read(&v, sizeof v) != sizeof v)
        return 0;
    return v;
}

/* Reads the rest of the scratch message into buf as a C string (cut to
 * cap - 1 bytes); returns its length. */
static inline size_t lg_msg_read_str(char *buf, size_t cap)
{
    size_t n = 0;
    uint32_t r;
    while (n + 1 < cap && (r = lg_msg_read(buf + n, cap - 1 - n)) > 0)
        n += r;
    buf[n] = 0;
    return n;
}

/* Waits for a message whose tag is one of tags[0..n) (n == 0: any message,
 * oldest first). Returns LG_DATA, LG_LINK_DIED, LG_PROCESS_DIED, or
 * LG_TIMEOUT (timeout_ms 0 polls, LG_FOREVER waits forever). */
static inline uint32_t lg_receive(const int64_t *tags, size_t n, uint64_t timeout_ms)
{
    return lgi_message_receive(tags, (uint32_t)n, timeout_ms);
}
static inline uint32_t lg_receive_any(uint64_t timeout_ms) { return lg_receive(NULL, 0, timeout_ms); }
static inline uint32_t lg_receive_tag(int64_t tag, uint64_t timeout_ms) { return lg_receive(&tag, 1, timeout_ms); }

/* Sends the scratch message to pid and waits for a message tagged
 * wait_tag that arrives after the send, ignoring those already queued.
 * Returns 0 (the reply is in scratch) or LG_TIMEOUT. */
static inline uint32_t lg_send_receive_skip_search(uint64_t pid, int64_t wait_tag, uint64_t timeout_ms)
{
    return lgi_message_send_receive_skip_search(pid, wait_tag, timeout_ms);
}

/* One-call sends of a u64 or a string with a tag. */
static inline void lg_send_u64(uint64_t pid, int64_t tag, uint64_t v)
{
    lg_msg_create(tag, 8);
    lg_msg_write_u64(v);
    lg_msg_send(pid);
}
static inline void lg_send_str(uint64_t pid, int64_t tag, const char *s)
{
    lg_msg_create(tag, strlen(s));
    lg_msg_write_str(s);
    lg_msg_send(pid);
}

/* ---- timers ------------------------------------------------------------ */

/* Sends the scratch message to pid after delay_ms; returns the timer id. */
static inline uint64_t lg_send_after(uint64_t pid, uint64_t delay_ms) { return lgi_timer_send_after(pid, delay_ms); }
/* 1 if the timer was still pending and is now cancelled, else 0. */
static inline int lg_cancel_timer(uint64_t timer_id) { return (int)lgi_timer_cancel_timer(timer_id); }

/* ---- registry ---------------------------------------------------------- */

static inline void lg_register(const char *name, uint64_t pid)
{
    lgi_registry_put(name, (uint32_t)strlen(name), 0, pid);
}
/* 0 with *node and *pid set if name is registered, else 1. */
static inline uint32_t lg_lookup(const char *name, uint64_t *node, uint64_t *pid)
{
    return lgi_registry_get(name, (uint32_t)strlen(name), node, pid);
}
static inline void lg_unregister(const char *name) { lgi_registry_remove(name, (uint32_t)strlen(name)); }

/* ---- configs and modules ----------------------------------------------- */

/* A new config with no permissions; -1 if the caller may not create one. */
static inline int64_t lg_config_create(void) { return lgi_process_create_config(); }
static inline void lg_config_drop(int64_t c) { lgi_process_drop_config((uint64_t)c); }
static inline void lg_config_set_max_memory(int64_t c, uint64_t bytes) { lgi_process_config_set_max_memory((uint64_t)c, bytes); }
static inline uint64_t lg_config_max_memory(int64_t c) { return lgi_process_config_get_max_memory((uint64_t)c); }
/* Fuel in units of 100 000 instructions; 0 = unlimited. */
static inline void lg_config_set_max_fuel(int64_t c, uint64_t units) { lgi_process_config_set_max_fuel((uint64_t)c, units); }
static inline uint64_t lg_config_max_fuel(int64_t c) { return lgi_process_config_get_max_fuel((uint64_t)c); }
static inline void lg_config_set_can_compile(int64_t c, int v) { lgi_process_config_set_can_compile_modules((uint64_t)c, v != 0); }
static inline void lg_config_set_can_create_configs(int64_t c, int v) { lgi_process_config_set_can_create_configs((uint64_t)c, v != 0); }
static inline void lg_config_set_can_spawn(int64_t c, int v) { lgi_process_config_set_can_spawn_processes((uint64_t)c, v != 0); }
static inline int lg_config_can_compile(int64_t c) { return (int)lgi_process_config_can_compile_modules((uint64_t)c); }
static inline int lg_config_can_create_configs(int64_t c) { return (int)lgi_process_config_can_create_configs((uint64_t)c); }
static inline int lg_config_can_spawn(int64_t c) { return (int)lgi_process_config_can_spawn_processes((uint64_t)c); }
static inline void lg_config_add_env(int64_t c, const char *key, const char *value)
{
    lgi_wasi_config_add_environment_variable((uint64_t)c, key, (uint32_t)strlen(key), value, (uint32_t)strlen(value));
}
static inline void lg_config_add_arg(int64_t c, const char *arg)
{
    lgi_wasi_config_add_command_line_argument((uint64_t)c, arg, (uint32_t)strlen(arg));
}
static inline void lg_config_preopen(int64_t c, const char *dir)
{
    lgi_wasi_config_preopen_dir((uint64_t)c, dir, (uint32_t)strlen(dir));
}

/* Compiles a Wasm module: 0 with the module id in *out, 1 with an error id
 * in *out, -1 if the caller may not compile modules. */
static inline int32_t lg_compile(const void *wasm, size_t len, uint64_t *out)
{
    return lgi_process_compile_module(wasm, (uint32_t)len, out);
}
static inline void lg_module_drop(uint64_t module_id) { lgi_process_drop_module(module_id); }

/* ---- errors ------------------------------------------------------------ */

/* Copies the text of error id into buf (NUL-terminated, cut to cap - 1)
 * and returns its full length. Does not drop the error. */
static inline size_t lg_error_string(uint64_t id, char *buf, size_t cap)
{
    uint32_t n = lgi_error_string_size(id);
    char tmp[n + 1];
    lgi_error_to_string(id, tmp);
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(buf, tmp, k);
    buf[k] = 0;
    return n;
}
static inline void lg_error_drop(uint64_t id) { lgi_error_drop(id); }

/* ---- networking --------------------------------------------------------
 * Sockets are handles (u64 ids) of the calling process; a blocking call
 * parks only the calling process. The calls return LG_OK, or LG_ERROR with an
 * error id in *err (when err is not NULL the caller owns it, else it is
 * dropped), or LG_TIMEOUT. Addresses are IPv4 or IPv6 in network order:
 * lg_addr holds one. Timeouts are in ms, LG_FOREVER for none. */

typedef struct lg_addr {
    uint32_t type;      /* 4 or 6 */
    uint8_t ip[16];     /* 4 or 16 bytes */
    uint16_t port;
    uint32_t flow_info, scope_id;
} lg_addr;

static inline lg_addr lg_ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
    lg_addr x = {.type = 4, .ip = {a, b, c, d}, .port = port};
    return x;
}
static inline lg_addr lg_localhost(uint16_t port) { return lg_ipv4(127, 0, 0, 1, port); }

static inline uint32_t lg_net_result_(uint32_t r, uint64_t id, uint64_t *err)
{
    if (r == LG_ERROR) {
        if (err)
            *err = id;
        else
            lgi_error_drop(id);
    }
    return r;
}

/* Takes the next address of a DNS iterator into *a; 0 when there is none. */
static inline int lg_dns_next(uint64_t iter, lg_addr *a)
{
    memset(a, 0, sizeof *a);
    return lgi_networking_resolve_next(iter, &a->type, a->ip, &a->port, &a->flow_info, &a->scope_id) == 0;
}
/* The first address of a DNS iterator, which is dropped. */
static inline lg_addr lg_dns_first(uint64_t iter)
{
    lg_addr a;
    lg_dns_next(iter, &a);
    lgi_networking_drop_dns_iterator(iter);
    return a;
}
/* Resolves "host:port" into a DNS iterator (*iter). */
static inline uint32_t lg_resolve(const char *name, uint64_t timeout_ms, uint64_t *iter, uint64_t *err)
{
    uint64_t id;
    uint32_t r = lgi_networking_resolve(name, (uint32_t)strlen(name), timeout_ms, &id);
    if (r == LG_OK)
        *iter = id;
    return lg_net_result_(r, id, err);
}

/* TCP: a listener on a (port 0: any free one), its local port, accept,
 * connect. */
static inline uint32_t lg_tcp_bind(lg_addr a, uint64_t *listener, uint64_t *err)
{
    uint64_t id;
    uint32_t r = lgi_networking_tcp_bind(a.type, a.ip, a.port, a.flow_info, a.scope_id, &id);
    if (r == LG_OK)
        *listener = id;
    return lg_net_result_(r, id, err);
}
static inline uint16_t lg_tcp_local_port(uint64_t listener)
{
    uint64_t it;
    if (lgi_networking_tcp_local_addr(listener, &it) != LG_OK) {
        lgi_error_drop(it);
        return 0;
    }
    return lg_dns_first(it).port;
}
/* Waits for a connection; *peer (if not NULL) gets its address. */
static inline uint32_t lg_tcp_accept(uint64_t listener, uint64_t *stream, lg_addr *peer, uint64_t *err)
{
    uint64_t id, it;
    uint32_t r = lgi_networking_tcp_accept(listener, &id, &it);
    if (r == LG_OK) {
        *stream = id;
        lg_addr a = lg_dns_first(it);
        if (peer)
            *peer = a;
    }
    return lg_net_result_(r, id, err);
}
static inline uint32_t lg_tcp_connect(lg_addr a, uint64_t timeout_ms, uint64_t *stream, uint64_t *err)
{
    uint64_t id;
    uint32_t r = lgi_networking_tcp_connect(a.type, a.ip, a.port, a.flow_info, a.scope_id, timeout_ms, &id);
    if (r == LG_OK)
        *stream = id;
    return lg_net_result_(r, id, err);
}
/* Reads up to len bytes (*n = 0 at the end of the stream). */
static inline uint32_t lg_tcp_read(uint64_t stream, void *buf, size_t len, size_t *n, uint64_t *err)
{
    uint64_t v;
    uint32_t r = lgi_networking_tcp_read(stream, buf, (uint32_t)len, &v);
    if (r == LG_OK)
        *n = (size_t)v;
    return lg_net_result_(r, v, err);
}
/* Writes all of buf (several writes if the stream takes less at a time). */
static inline uint32_t lg_tcp_write_all(uint64_t stream, const void *buf, size_t len, uint64_t *err)
{
    const uint8_t *p = (const uint8_t *)buf;
    while (len) {
        uint32_t iov[2] = {(uint32_t)(uintptr_t)p, (uint32_t)len};
        uint64_t v;
        uint32_t r = lgi_networking_tcp_write_vectored(stream, iov, 1, &v);
        if (r != LG_OK)
            return lg_net_result_(r, v, err);
        p += v;
        len -= (size_t)v;
    }
    return LG_OK;
}
static inline void lg_tcp_close(uint64_t stream) { lgi_networking_drop_tcp_stream(stream); }
static inline void lg_tcp_close_listener(uint64_t listener) { lgi_networking_drop_tcp_listener(listener); }

/* Moves a stream into the scratch message (the handle is gone from the
 * caller) / takes one from a received message; the index travels with it. */
static inline uint64_t lg_msg_push_tcp_stream(uint64_t stream) { return lgi_message_push_tcp_stream(stream); }
static inline uint64_t lg_msg_take_tcp_stream(uint64_t index) { return lgi_message_take_tcp_stream(index); }

/* UDP */
static inline uint32_t lg_udp_bind(lg_addr a, uint64_t *sock, uint64_t *err)
{
    uint64_t id;
    uint32_t r = lgi_networking_udp_bind(a.type, a.ip, a.port, a.flow_info, a.scope_id, &id);
    if (r == LG_OK)
        *sock = id;
    return lg_net_result_(r, id, err);
}
static inline uint16_t lg_udp_local_port(uint64_t sock)
{
    uint64_t it;
    if (lgi_networking_udp_local_addr(sock, &it) != LG_OK) {
        lgi_error_drop(it);
        return 0;
    }
    return lg_dns_first(it).port;
}
static inline uint32_t lg_udp_send_to(uint64_t sock, const void *buf, size_t len, lg_addr to, uint64_t *err)
{
    uint64_t v;
    uint32_t r = lgi_networking_udp_send_to(sock, buf, (uint32_t)len, to.type, to.ip, to.port, to.flow_info,
                                            to.scope_id, &v);
    return lg_net_result_(r, v, err);
}
/* Waits for a datagram: *n bytes of it in buf, the sender in *from. */
static inline uint32_t lg_udp_receive_from(uint64_t sock, void *buf, size_t len, size_t *n, lg_addr *from,
                                           uint64_t *err)
{
    uint64_t v, it;
    uint32_t r = lgi_networking_udp_receive_from(sock, buf, (uint32_t)len, &v, &it);
    if (r == LG_OK) {
        *n = (size_t)v;
        lg_addr a = lg_dns_first(it);
        if (from)
            *from = a;
    }
    return lg_net_result_(r, v, err);
}
static inline void lg_udp_close(uint64_t sock) { lgi_networking_drop_udp_socket(sock); }

/* ---- version, metrics, distributed --------------------------------------- */

static inline uint32_t lg_version_major(void) { return lgi_version_major(); }
static inline uint32_t lg_version_minor(void) { return lgi_version_minor(); }
static inline uint32_t lg_version_patch(void) { return lgi_version_patch(); }

static inline void lg_counter(const char *name, uint64_t v) { lgi_metrics_counter(name, (uint32_t)strlen(name), v); }
static inline void lg_increment_counter(const char *name) { lgi_metrics_increment_counter(name, (uint32_t)strlen(name)); }
static inline void lg_gauge(const char *name, double v) { lgi_metrics_gauge(name, (uint32_t)strlen(name), v); }
static inline void lg_increment_gauge(const char *name, double v) { lgi_metrics_increment_gauge(name, (uint32_t)strlen(name), v); }
static inline void lg_decrement_gauge(const char *name, double v) { lgi_metrics_decrement_gauge(name, (uint32_t)strlen(name), v); }
static inline void lg_histogram(const char *name, double v) { lgi_metrics_histogram(name, (uint32_t)strlen(name), v); }

static inline uint64_t lg_node_id(void) { return lgi_distributed_node_id(); }
static inline uint32_t lg_nodes_count(void) { return lgi_distributed_nodes_count(); }
static inline uint64_t lg_module_id(void) { return lgi_distributed_module_id(); }
static inline uint32_t lg_get_nodes(uint64_t *nodes, uint32_t max) { return lgi_distributed_get_nodes(nodes, max); }

/* ---- lunatic::sqlite ------------------------------------------------------
 * Connections and statements are ids of the calling process. Results:
 * lg_sqlite_step gives 100 (LG_SQLITE_ROW), 101 (LG_SQLITE_DONE) or a SQLite
 * error code; lg_sqlite_exec 0 or an error code; lg_sqlite_last_error the
 * code and message of the connection's last error (0 and "" for none).
 * Values travel in the original's bincode formats (ABI.md 2.12): bind
 * lists are built with lg_sqlbind_*, values read with lg_sqlval_decode. */

#define LG_SQLITE_ROW 100
#define LG_SQLITE_DONE 101

/* Opens a database (a path in a preopened directory, or ":memory:"): 0
 * with the connection id in *conn, or 1 with an error id there. */
static inline uint64_t lg_sqlite_open(const char *path, uint64_t *conn)
{
    return lgi_sqlite_open(path, (uint32_t)strlen(path), conn);
}
static inline uint32_t lg_sqlite_exec(uint64_t conn, const char *sql)
{
    return lgi_sqlite_execute(conn, sql, (uint32_t)strlen(sql));
}
static inline uint64_t lg_sqlite_prepare(uint64_t conn, const char *sql)
{
    return lgi_sqlite_query_prepare(conn, sql, (uint32_t)strlen(sql));
}
static inline uint32_t lg_sqlite_step(uint64_t stmt) { return lgi_sqlite_sqlite3_step(stmt); }
static inline void lg_sqlite_reset(uint64_t stmt) { lgi_sqlite_statement_reset(stmt); }
static inline void lg_sqlite_finalize(uint64_t stmt) { lgi_sqlite_sqlite3_finalize(stmt); }

/* A BindList under construction in a caller's buffer: pairs are a key
 * (lg_sqlbind_at, lg_sqlbind_named or lg_sqlbind_next) followed by a value.
 * Overflowing the buffer sets len past cap; lg_sqlite_bind then binds
 * nothing and returns -1. */
typedef struct lg_sqlbind {
    uint8_t *p;
    uint32_t len, cap;
    uint64_t count;
} lg_sqlbind;

static inline void lg_sqlbind_put(lg_sqlbind *b, const void *v, uint32_t n)
{
    if (b->len <= b->cap && n <= b->cap - b->len)
        memcpy(b->p + b->len, v, n);
    b->len += n;
}
static inline void lg_sqlbind_u32(lg_sqlbind *b, uint32_t v) { lg_sqlbind_put(b, &v, 4); } /* LE */
static inline void lg_sqlbind_u64(lg_sqlbind *b, uint64_t v) { lg_sqlbind_put(b, &v, 8); }
static inline void lg_sqlbind_init(lg_sqlbind *b, void *buf, uint32_t cap)
{
    b->p = (uint8_t *)buf;
    b->cap = cap;
    b->len = 0;
    b->count = 0;
    lg_sqlbind_u64(b, 0); /* the count, patched by lg_sqlite_bind */
}
/* Keys: parameter index (from 1), parameter name, or the next parameter. */
static inline void lg_sqlbind_at(lg_sqlbind *b, uint64_t index)
{
    b->count++;
    lg_sqlbind_u32(b, 1);
    lg_sqlbind_u64(b, index);
}
static inline void lg_sqlbind_named(lg_sqlbind *b, const char *name)
{
    b->count++;
    lg_sqlbind_u32(b, 2);
    lg_sqlbind_u64(b, strlen(name));
    lg_sqlbind_put(b, name, (uint32_t)strlen(name));
}
static inline void lg_sqlbind_next(lg_sqlbind *b)
{
    b->count++;
    lg_sqlbind_u32(b, 0);
}
/* Values. */
static inline void lg_sqlbind_null(lg_sqlbind *b) { lg_sqlbind_u32(b, 0); }
static inline void lg_sqlbind_blob(lg_sqlbind *b, const void *p, uint32_t n)
{
    lg_sqlbind_u32(b, 1);
    lg_sqlbind_u64(b, n);
    lg_sqlbind_put(b, p, n);
}
static inline void lg_sqlbind_text(lg_sqlbind *b, const char *s)
{
    lg_sqlbind_u32(b, 2);
    lg_sqlbind_u64(b, strlen(s));
    lg_sqlbind_put(b, s, (uint32_t)strlen(s));
}
static inline void lg_sqlbind_double(lg_sqlbind *b, double d)
{
    lg_sqlbind_u32(b, 3);
    lg_sqlbind_put(b, &d, 8);
}
static inline void lg_sqlbind_int(lg_sqlbind *b, int32_t v)
{
    lg_sqlbind_u32(b, 4);
    lg_sqlbind_u32(b, (uint32_t)v);
}
static inline void lg_sqlbind_int64(lg_sqlbind *b, int64_t v)
{
    lg_sqlbind_u32(b, 5);
    lg_sqlbind_u64(b, (uint64_t)v);
}
static inline int lg_sqlite_bind(uint64_t stmt, lg_sqlbind *b)
{
    if (b->len > b->cap)
        return -1;
    memcpy(b->p, &b->count, 8);
    lgi_sqlite_bind_value(stmt, b->p, b->len);
    return 0;
}

/* A decoded SqliteValue; data points into the buffer it was decoded from. */
#define LG_SQL_NULL 0
#define LG_SQL_BLOB 1
#define LG_SQL_TEXT 2
#define LG_SQL_DOUBLE 3
#define LG_SQL_INTEGER 4
#define LG_SQL_I64 5
typedef struct lg_sqlval {
    uint32_t kind;
    int64_t i;
    double d;
    const uint8_t *data;
    uint32_t len;
} lg_sqlval;

/* Decodes one SqliteValue at p[0..n): the bytes it took, 0 if malformed. */
static inline uint32_t lg_sqlval_decode(const uint8_t *p, uint32_t n, lg_sqlval *v)
{
    uint64_t len;
    memset(v, 0, sizeof *v);
    if (n < 4)
        return 0;
    memcpy(&v->kind, p, 4);
    switch (v->kind) {
    case LG_SQL_NULL:
        return 4;
    case LG_SQL_BLOB:
    case LG_SQL_TEXT:
        if (n < 12)
            return 0;
        memcpy(&len, p + 4, 8);
        if (len > n - 12)
            return 0;
        v->data = p + 12;
        v->len = (uint32_t)len;
        return 12 + (uint32_t)len;
    case LG_SQL_DOUBLE:
    case LG_SQL_INTEGER:
    case LG_SQL_I64:
        if (n < 12)
            return 0;
        if (v->kind == LG_SQL_DOUBLE)
            memcpy(&v->d, p + 4, 8);
        else
            memcpy(&v->i, p + 4, 8);
        return 12;
    default:
        return 0;
    }
}

/* Column col of the current row into *v (kind UINT32_MAX if the bytes do
 * not decode); returns the buffer the host allocated, to free() when done
 * with v. */
static inline void *lg_sqlite_column(uint64_t stmt, uint32_t col, lg_sqlval *v)
{
    uint32_t n = 0;
    uint8_t *p = (uint8_t *)(uintptr_t)lgi_sqlite_read_column(stmt, col, &n);
    if (!lg_sqlval_decode(p, n, v))
        v->kind = UINT32_MAX;
    return p;
}

/* The connection's last error: its code (0 when there is none) and its
 * message copied to msg (cut to cap - 1, NUL-terminated). */
static inline uint32_t lg_sqlite_last_error(uint64_t conn, char *msg, size_t cap)
{
    uint32_t n = 0, code = 0;
    uint8_t *p = (uint8_t *)(uintptr_t)lgi_sqlite_last_error(conn, &n);
    uint32_t at = 0;
    if (cap)
        msg[0] = 0;
    if (n >= 1 && p[0] == 1 && n >= 5) {
        memcpy(&code, p + 1, 4);
        at = 5;
    } else {
        at = 1;
    }
    if (n >= at + 9 && p[at] == 1) {
        uint64_t len;
        memcpy(&len, p + at + 1, 8);
        if (len <= n - at - 9 && cap) {
            size_t k = len < cap - 1 ? (size_t)len : cap - 1;
            memcpy(msg, p + at + 9, k);
            msg[k] = 0;
        }
    }
    free(p);
    return code;
}

#ifndef LG_NO_LUNATIC_ALLOC
/* The allocator the host's allocating calls use (lunatic_alloc, ABI.md
 * 1.3): the buffer belongs to the guest, which frees it with free(). */
__attribute__((weak, export_name("lunatic_alloc"))) uint32_t lunatic_alloc(uint32_t len)
{
    return (uint32_t)(uintptr_t)malloc(len ? len : 1);
}
#endif

/* ---- clusters (ABI.md §3.5) ----------------------------------------------
 * On a node (lunatic run --name, lunatic node) a pid carries its node: the
 * top 16 bits are the node id (this node's own id for its processes), so
 * a pid received from anywhere names one process of the cluster, and
 * link, monitor, kill and message sends work on it wherever it lives. */

/* The node a pid lives on (0 outside a cluster). */
static inline uint64_t lg_pid_node(uint64_t pid) { return pid >> 48; }

/* Sends the scratch message to pid, on whichever node it is (as lunatic-rs
 * does: message::send for this node, distributed::send for another).
 * 0, or 1 when its node is not connected. */
static inline uint32_t lg_msg_send_to(uint64_t pid)
{
    uint64_t node = lg_pid_node(pid);
    if (node == 0 || node == lg_node_id()) {
        lg_msg_send(pid);
        return 0;
    }
    return lgi_distributed_send(node, pid);
}

/* Spawns func(params) of this module on node with config_id (LG_MINE:
 * the caller's config, shipped with the request); waits for the answer
 * (5 s at most). 0 with the pid in *out; 1 (node not found, or the spawn
 * failed there), 2 (module not found) or LG_TIMEOUT with an error id in
 * *out. */
static inline uint32_t lg_spawn_on(uint64_t node, int64_t config_id, const char *func,
                                   const lg_param *params, size_t n, uint64_t *out)
{
    uint8_t buf[17 * LG_MAX_PARAMS];
    uint32_t len = lg_encode_params(buf, params, n);
    return lgi_distributed_spawn(node, config_id, lg_module_id(), func, (uint32_t)strlen(func),
                                 buf, len, out);
}

/* The nodes whose tags (lunatic node --tag KEY=VALUE) include every pair
 * of query ("k=v&k2=v2"): up to max ids into out; returns how many were
 * copied (0 on an error). */
static inline uint32_t lg_lookup_nodes(const char *query, uint64_t *out, uint32_t max)
{
    uint64_t qid = 0, err = 0, count = 0; /* the host writes a u32 count (decision 2) */
    if (lgi_distributed_exec_lookup_nodes(query, (uint32_t)strlen(query), &qid, &count, &err) != 0) {
        lgi_error_drop(err);
        return 0;
    }
    int32_t r = lgi_distributed_copy_lookup_nodes_results(qid, out, max, &err);
    return r < 0 ? 0 : (uint32_t)r;
}

/* Erlang terms. An Erlang process that sends {lunatic, Tag, Binary} is
 * received as a data message with that tag and data; any other term
 * arrives with tag 0 as its external term format bytes behind the 4-byte
 * marker "ERL\0". A guest sends a term the same way: data starting with
 * the marker and a term (version byte 131 first) reaches an Erlang process
 * as that term; other data reaches it as {lunatic, Tag, Binary}. The
 * helpers below read and write the few kinds of terms such messages need:
 * tuples, atoms, integers, binaries and pids. */
#define LG_ETF_MARKER "ERL"
#define LG_ETF_MARKER_LEN 4

/* The node id of a node named name in its life numbered creation (what
 * the runtime computes: FNV-1a 64 over the name and the creation's 4
 * big-endian bytes, then 1 + hash % 65535). */
static inline uint64_t lg_node_id_of(const char *name, size_t len, uint32_t creation)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)name[i]) * 0x100000001b3ull;
    for (int i = 3; i >= 0; i--)
        h = (h ^ (uint8_t)(creation >> (8 * i))) * 0x100000001b3ull;
    return 1 + h % 65535;
}

/* A reader over a term; any error sets err and makes every later call
 * fail. */
typedef struct lg_etf {
    const uint8_t *p, *end;
    int err;
} lg_etf;

static inline uint64_t lg_etf_be_(const uint8_t *b, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | b[i];
    return v;
}
static inline int lg_etf_need_(lg_etf *r, size_t n)
{
    if (r->err || (size_t)(r->end - r->p) < n)
        return r->err = 1, 0;
    return 1;
}

/* Starts reading a received message (its bytes): 0 if they are a marked
 * Erlang term, -1 if not. */
static inline int lg_etf_open(lg_etf *r, const void *data, size_t len)
{
    const uint8_t *b = (const uint8_t *)data;
    r->p = b + LG_ETF_MARKER_LEN + 1;
    r->end = b + len;
    r->err = !(len > LG_ETF_MARKER_LEN && !memcmp(b, LG_ETF_MARKER, LG_ETF_MARKER_LEN) &&
               b[LG_ETF_MARKER_LEN] == 131);
    return r->err ? -1 : 0;
}

/* A tuple's arity, or -1. */
static inline int lg_etf_tuple(lg_etf *r)
{
    if (!lg_etf_need_(r, 2))
        return -1;
    if (r->p[0] == 104) {
        r->p += 2;
        return r->p[-1];
    }
    if (r->p[0] == 105 && lg_etf_need_(r, 5)) {
        int a = (int)lg_etf_be_(r->p + 1, 4);
        r->p += 5;
        return a;
    }
    return r->err = 1, -1;
}

/* An atom into buf (NUL-terminated); its length, or -1. */
static inline int lg_etf_atom(lg_etf *r, char *buf, size_t cap)
{
    if (!lg_etf_need_(r, 2))
        return -1;
    uint8_t t = r->p[0];
    size_t n, h;
    if (t == 119 || t == 115) {
        n = r->p[1];
        h = 2;
    } else if ((t == 118 || t == 100) && lg_etf_need_(r, 3)) {
        n = (size_t)lg_etf_be_(r->p + 1, 2);
        h = 3;
    } else {
        return r->err = 1, -1;
    }
    if (!lg_etf_need_(r, h + n) || n >= cap)
        return r->err = 1, -1;
    memcpy(buf, r->p + h, n);
    buf[n] = 0;
    r->p += h + n;
    return (int)n;
}

/* An integer that fits in an int64_t: 0, or -1. */
static inline int lg_etf_int(lg_etf *r, int64_t *v)
{
    if (!lg_etf_need_(r, 2))
        return -1;
    uint8_t t = r->p[0];
    if (t == 97) {
        *v = r->p[1];
        r->p += 2;
        return 0;
    }
    if (t == 98 && lg_etf_need_(r, 5)) {
        *v = (int32_t)lg_etf_be_(r->p + 1, 4);
        r->p += 5;
        return 0;
    }
    if (t == 110 && lg_etf_need_(r, 3)) {
        size_t n = r->p[1];
        if (n > 8 || !lg_etf_need_(r, 3 + n))
            return r->err = 1, -1;
        uint64_t m = 0;
        for (size_t i = 0; i < n; i++)
            m |= (uint64_t)r->p[3 + i] << (8 * i);
        if (m > (r->p[2] ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
            return r->err = 1, -1;
        *v = r->p[2] ? (int64_t)(0 - m) : (int64_t)m;
        r->p += 3 + n;
        return 0;
    }
    return r->err = 1, -1;
}

/* A binary: a pointer into the message bytes and its length. 0, or -1. */
static inline int lg_etf_binary(lg_etf *r, const uint8_t **data, size_t *len)
{
    if (!lg_etf_need_(r, 5) || r->p[0] != 109)
        return r->err = 1, -1;
    size_t n = (size_t)lg_etf_be_(r->p + 1, 4);
    if (!lg_etf_need_(r, 5 + n))
        return -1;
    *data = r->p + 5;
    *len = n;
    r->p += 5 + n;
    return 0;
}

/* A pid, as the u64 pid of this runtime (its node id in the top bits):
 * send to it, link to it, monitor it. 0, or -1 (also for an Erlang pid
 * whose serial does not fit in 16 bits). */
static inline int lg_etf_pid(lg_etf *r, uint64_t *pid)
{
    char node[256];
    if (!lg_etf_need_(r, 1) || r->p[0] != 88)
        return r->err = 1, -1;
    r->p++;
    int nl = lg_etf_atom(r, node, sizeof node);
    if (nl < 0 || !lg_etf_need_(r, 12))
        return -1;
    uint32_t num = (uint32_t)lg_etf_be_(r->p, 4), serial = (uint32_t)lg_etf_be_(r->p + 4, 4);
    uint32_t creation = (uint32_t)lg_etf_be_(r->p + 8, 4);
    r->p += 12;
    uint64_t id = lg_node_id_of(node, (size_t)nl, creation);
    /* a lunatic node keeps the environment in the serial's top bits */
    *pid = id << 48 | (uint64_t)(serial & 0xffff) << 32 | num;
    return 0;
}

/* {lunatic, Tag, Binary}: 0 with the tag and the binary, or -1. */
static inline int lg_etf_lunatic(lg_etf *r, int64_t *tag, const uint8_t **data, size_t *len)
{
    char a[16];
    if (lg_etf_tuple(r) != 3 || lg_etf_atom(r, a, sizeof a) < 0 || strcmp(a, "lunatic"))
        return -1;
    if (lg_etf_int(r, tag) < 0)
        return -1;
    return lg_etf_binary(r, data, len);
}

/* A writer into buf (cap bytes); an overflow sets err. lg_etfw_begin
 * writes the marker and the version byte: the bytes, once the term is
 * complete, are a message that reaches an Erlang process as the term. */
typedef struct lg_etfw {
    uint8_t *buf;
    size_t len, cap;
    int err;
} lg_etfw;

static inline int lg_etfw_put_(lg_etfw *w, const void *p, size_t n)
{
    if (w->err || w->cap - w->len < n)
        return w->err = 1, -1;
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    return 0;
}
static inline void lg_etfw_be_(lg_etfw *w, uint64_t v, int n)
{
    uint8_t b[8];
    for (int i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    lg_etfw_put_(w, b, (size_t)n);
}
static inline void lg_etfw_begin(lg_etfw *w, void *buf, size_t cap)
{
    w->buf = (uint8_t *)buf;
    w->len = 0;
    w->cap = cap;
    w->err = 0;
    lg_etfw_put_(w, LG_ETF_MARKER, LG_ETF_MARKER_LEN);
    lg_etfw_put_(w, "\x83", 1);
}
static inline void lg_etfw_tuple(lg_etfw *w, uint32_t arity)
{
    if (arity < 256) {
        uint8_t h[2] = {104, (uint8_t)arity};
        lg_etfw_put_(w, h, 2);
    } else {
        lg_etfw_put_(w, "\x69", 1);
        lg_etfw_be_(w, arity, 4);
    }
}
static inline void lg_etfw_atom(lg_etfw *w, const char *a)
{
    size_t n = strlen(a);
    if (n > 255)
        return (void)(w->err = 1);
    uint8_t h[2] = {119, (uint8_t)n};
    lg_etfw_put_(w, h, 2);
    lg_etfw_put_(w, a, n);
}
static inline void lg_etfw_int(lg_etfw *w, int64_t v)
{
    if (v >= 0 && v <= 255) {
        uint8_t h[2] = {97, (uint8_t)v};
        lg_etfw_put_(w, h, 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        lg_etfw_put_(w, "\x62", 1);
        lg_etfw_be_(w, (uint32_t)(int32_t)v, 4);
    } else {
        uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        uint8_t b[11];
        int n = 0;
        while (m) {
            b[3 + n++] = (uint8_t)m;
            m >>= 8;
        }
        b[0] = 110;
        b[1] = (uint8_t)n;
        b[2] = v < 0;
        lg_etfw_put_(w, b, (size_t)(3 + n));
    }
}
static inline void lg_etfw_binary(lg_etfw *w, const void *data, size_t len)
{
    lg_etfw_put_(w, "\x6d", 1);
    lg_etfw_be_(w, len, 4);
    lg_etfw_put_(w, data, len);
}
/* The whole term {lunatic, Tag, Binary} (after lg_etfw_begin). */
static inline void lg_etfw_lunatic(lg_etfw *w, int64_t tag, const void *data, size_t len)
{
    lg_etfw_tuple(w, 3);
    lg_etfw_atom(w, "lunatic");
    lg_etfw_int(w, tag);
    lg_etfw_binary(w, data, len);
}

/* Sends bytes to pid, on any node: an Erlang process receives
 * {lunatic, Tag, Binary} (or the term, for bytes an lg_etfw wrote). */
static inline uint32_t lg_send_to(uint64_t pid, int64_t tag, const void *data, size_t len)
{
    lg_msg_create(tag, len);
    lg_msg_write(data, len);
    return lg_msg_send_to(pid);
}

/* ---- trap::catch ------------------------------------------------------- */

typedef int32_t (*lg_catch_fn)(int32_t arg);

/* Runs fn(arg); returns its result, or 0 if it trapped (the process lives
 * on; anything fn allocated leaks). The shadow stack pointer, left low by
 * a trapped call, is restored. */
static inline int32_t lg_catch(lg_catch_fn fn, int32_t arg)
{
    uintptr_t sp;
    __asm__ volatile("global.get __stack_pointer\n\tlocal.set %0" : "=r"(sp));
    int32_t r = lgi_trap_catch((int32_t)(uintptr_t)fn, arg);
    __asm__ volatile("local.get %0\n\tglobal.set __stack_pointer" : : "r"(sp));
    return r;
}

#ifndef LG_NO_CATCH_TRAP
/* The trampoline lunatic::trap::catch calls: function is a table index. */
__attribute__((weak, export_name("_lunatic_catch_trap"))) int32_t _lunatic_catch_trap(int32_t function, int32_t pointer)
{
    return ((lg_catch_fn)(uintptr_t)function)(pointer);
}
#endif

#endif /* LUNATIC_GUEST_H */
