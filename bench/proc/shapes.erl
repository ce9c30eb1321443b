%% bench/proc/shapes.erl - the six process-benchmark shapes on Erlang/OTP.
%%
%% Build and run (bench/proc/run.sh does this):
%%   erlc -o build/bench/proc bench/proc/shapes.erl
%%   erl -noshell +P 2000000 -pa build/bench/proc -run shapes main SHAPE [ARGS...]
%%
%% Shapes and arguments (defaults in brackets), the same as the C guests':
%%   spawn     [N=100000]          spawn N idle processes
%%   ring      [N=10000] [M=1000000]  ring of N processes (main included), M hops
%%   pingpong  [M=1000000]         M round trips between two processes
%%   selective [Q=10000] [R=1000]  Q unmatched messages queued, R selective receives
%%   million   [N=1000000]         N idle processes alive at once (needs +P > N)
%%   parspawn  [K=1] [TOTAL=200000]  K spawners spawn TOTAL short-lived children
%%
%% Output: one "key value" line per figure (machine-readable), e.g.
%%   spawn_us 2.31
%%   idle_bytes 2650
%% Lines starting with '#' are comments. Memory is the OS resident set of the
%% BEAM process (/proc/self/status VmRSS / VmHWM), not erlang:memory().
-module(shapes).
-export([main/1, idle/0, ring_node/2, echo/0, child/0, spawner/2]).

main(Args) ->
    try run(Args) of
        _ -> halt(0)
    catch C:E:St ->
        io:format(standard_error, "shapes: ~p:~p~n~p~n", [C, E, St]),
        halt(1)
    end.

arg(Args, I, Def) ->
    case length(Args) >= I of
        true -> list_to_integer(lists:nth(I, Args));
        false -> Def
    end.

now_ns() -> erlang:monotonic_time(nanosecond).

out(Key, Val) when is_float(Val), Val >= 1000.0 -> io:format("~s ~p~n", [Key, round(Val)]);
out(Key, Val) when is_float(Val) ->
    io:format("~s ~s~n", [Key, float_to_list(Val, [{decimals, 4}, compact])]);
out(Key, Val) -> io:format("~s ~p~n", [Key, Val]).

%% VmRSS / VmHWM in bytes.
status_kb(Field) ->
    {ok, B} = file:read_file("/proc/self/status"),
    Lines = binary:split(B, <<"\n">>, [global]),
    Prefix = <<Field/binary, ":">>,
    [V] = [begin
               Rest = binary:part(L, byte_size(Prefix), byte_size(L) - byte_size(Prefix)),
               [Num | _] = binary:split(string:trim(Rest), <<" ">>),
               binary_to_integer(Num)
           end || L <- Lines, binary:longest_common_prefix([L, Prefix]) =:= byte_size(Prefix)],
    V * 1024.
rss() -> status_kb(<<"VmRSS">>).
hwm() -> status_kb(<<"VmHWM">>).

%% Wait until every spawned process has run up to its receive (run queues empty).
settle() ->
    settle(0).
settle(Quiet) when Quiet >= 5 -> ok;
settle(Quiet) ->
    timer:sleep(20),
    case erlang:statistics(total_run_queue_lengths_all) of
        0 -> settle(Quiet + 1);
        _ -> settle(0)
    end.

run(["spawn" | A]) -> spawn_shape(arg(A, 1, 100000), "");
run(["million" | A]) -> spawn_shape(arg(A, 1, 1000000), "million_");
run(["ring" | A]) -> ring(arg(A, 1, 10000), arg(A, 2, 1000000));
run(["pingpong" | A]) -> pingpong(arg(A, 1, 1000000));
run(["selective" | A]) -> selective(arg(A, 1, 10000), arg(A, 2, 1000));
run(["parspawn" | A]) -> parspawn(arg(A, 1, 1), arg(A, 2, 200000));
run(Other) -> error({unknown_shape, Other}).

%% ---- (1) and (5): N idle processes -------------------------------------
idle() ->
    receive stop -> ok end.

spawn_n(0) -> ok;
spawn_n(N) -> spawn(fun ?MODULE:idle/0), spawn_n(N - 1).

spawn_shape(N, Prefix) ->
    garbage_collect(),
    settle(),
    Rss0 = rss(),
    Mem0 = erlang:memory(processes),
    T0 = now_ns(),
    spawn_n(N),
    T1 = now_ns(),
    settle(),
    Rss1 = rss(),
    Mem1 = erlang:memory(processes),
    Count = erlang:system_info(process_count),
    io:format("# erlang ~s, ~p schedulers, ~p processes alive~n",
              [erlang:system_info(otp_release), erlang:system_info(schedulers_online), Count]),
    out(Prefix ++ "spawn_us", (T1 - T0) / 1000 / max(N, 1)),
    out(Prefix ++ "idle_bytes", round((Rss1 - Rss0) / max(N, 1))),
    out(Prefix ++ "idle_bytes_vm", round((Mem1 - Mem0) / max(N, 1))),
    out(Prefix ++ "base_rss_mb", Rss0 / 1048576),
    out(Prefix ++ "rss_mb", Rss1 / 1048576),
    out(Prefix ++ "peak_rss_mb", hwm() / 1048576).

%% ---- (2) ring ----------------------------------------------------------
%% main is one of the N nodes: main -> c(N-1) -> ... -> c(1) -> main.
%% The token carries the number of hops still to make; whoever receives 0
%% tells main (or is main).
ring_node(Next, Main) ->
    receive
        {token, 0} -> Main ! done, ring_node(Next, Main);
        {token, K} -> Next ! {token, K - 1}, ring_node(Next, Main)
    end.

ring_main(Next) ->
    receive
        {token, 0} -> ok;
        {token, K} -> Next ! {token, K - 1}, ring_main(Next);
        done -> ok
    end.

ring(N, M) ->
    Main = self(),
    First = lists:foldl(fun(_, Next) -> spawn(?MODULE, ring_node, [Next, Main]) end,
                        Main, lists:seq(1, N - 1)),
    settle(),
    T0 = now_ns(),
    First ! {token, M - 1},          % this send is hop 1
    ring_main(First),
    T1 = now_ns(),
    Sec = (T1 - T0) / 1.0e9,
    out("ring_hops_per_s", M / Sec),
    out("ring_hop_ns", (T1 - T0) / M).

%% ---- (3) ping-pong -----------------------------------------------------
echo() ->
    receive
        {ping, From, K} -> From ! {pong, K}, echo();
        stop -> ok
    end.

pp_loop(_, 0) -> ok;
pp_loop(Echo, K) ->
    Echo ! {ping, self(), K},
    receive {pong, K} -> ok end,
    pp_loop(Echo, K - 1).

pingpong(M) ->
    Echo = spawn(fun ?MODULE:echo/0),
    pp_loop(Echo, 1000),                % warm-up
    T0 = now_ns(),
    pp_loop(Echo, M),
    T1 = now_ns(),
    Echo ! stop,
    out("pingpong_rtt_us", (T1 - T0) / 1000 / M),
    out("pingpong_rt_per_s", M / ((T1 - T0) / 1.0e9)).

%% ---- (4) selective receive ----------------------------------------------
%% Q messages that never match sit in our own queue; each round sends one
%% matching message (last, behind the Q) to ourselves and receives it. The
%% tag is an atom, not a fresh reference, so OTP's "receive marker"
%% optimisation does not apply and every receive scans the whole queue.
junk(0) -> ok;
junk(I) -> self() ! {junk, I}, junk(I - 1).

sel_loop(0) -> ok;
sel_loop(I) ->
    self() ! {match, I},
    receive {match, I} -> ok end,
    sel_loop(I - 1).

selective(Q, R) ->
    sel_loop(100),                      % warm-up with an empty queue
    T0 = now_ns(),
    sel_loop(R),
    T1 = now_ns(),
    junk(Q),
    {message_queue_len, Q} = process_info(self(), message_queue_len),
    T2 = now_ns(),
    sel_loop(R),
    T3 = now_ns(),
    {message_queue_len, Q} = process_info(self(), message_queue_len),
    out("selective_us", (T3 - T2) / 1000 / R),
    out("selective_empty_us", (T1 - T0) / 1000 / R).

%% ---- (6) parallel spawn -------------------------------------------------
%% K spawners start at once, each spawns TOTAL div K children that return
%% immediately, then tells main. Timed from starting the first spawner until
%% all K have reported; rate = spawns / time. Warm-up as in parspawn.c: 4,000
%% short-lived children, then 100 ms.
child() -> ok.

spawner(Main, 0) -> Main ! spawner_done;
spawner(Main, N) -> spawn(fun ?MODULE:child/0), spawner(Main, N - 1).

spawn_children(0) -> ok;
spawn_children(N) -> spawn(fun ?MODULE:child/0), spawn_children(N - 1).

wait_done(0) -> ok;
wait_done(K) -> receive spawner_done -> wait_done(K - 1) end.

parspawn(K, Total) when K >= 1, Total >= K ->
    Per = Total div K,
    spawn_children(4000),               % warm-up
    timer:sleep(100),
    Main = self(),
    T0 = now_ns(),
    [spawn(?MODULE, spawner, [Main, Per]) || _ <- lists:seq(1, K)],
    wait_done(K),
    T1 = now_ns(),
    io:format("# ~p spawners, ~p short-lived spawns, ~p schedulers~n",
              [K, Per * K, erlang:system_info(schedulers_online)]),
    out("parspawn_mps", Per * K / ((T1 - T0) / 1.0e9) / 1.0e6),
    out("parspawn_s", (T1 - T0) / 1.0e9).
