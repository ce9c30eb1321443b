%% dist.erl - the cross-node shapes of bench/dist/run.sh between two Erlang
%% nodes (the same shapes as bench/dist/dist.c between two lunatic nodes):
%% rtt N, tput N, spawn N, run on node e1 against node e2 given as the
%% second argument. Prints "METRIC VALUE" lines.
-module(dist).
-export([main/1, echo/0, sink/1, nothing/0]).

echo() ->
    receive {From, Bin} -> From ! {echo, Bin}, echo() end.

sink(N) ->
    receive
        {done, From} -> From ! {count, N}, sink(0);
        _ -> sink(N + 1)
    end.

nothing() -> ok.

rtt(_, _, 0, Acc) -> Acc;
rtt(E, Bin, K, Acc) ->
    T = erlang:monotonic_time(nanosecond),
    E ! {self(), Bin},
    receive {echo, _} -> ok end,
    rtt(E, Bin, K - 1, [erlang:monotonic_time(nanosecond) - T | Acc]).

send_n(_, _, 0) -> ok;
send_n(S, Bin, K) -> S ! Bin, send_n(S, Bin, K - 1).

spawn_n(_, 0) -> ok;
spawn_n(Node, K) -> _ = spawn(Node, ?MODULE, nothing, []), spawn_n(Node, K - 1).

main([Shape, NStr, NodeStr]) ->
    N = list_to_integer(NStr),
    Node = list_to_atom(NodeStr),
    pong = net_adm:ping(Node),
    Bin = binary:copy(<<0>>, 64),
    case Shape of
        "rtt" ->
            E = spawn(Node, ?MODULE, echo, []),
            rtt(E, Bin, 1000, []),
            T0 = erlang:monotonic_time(microsecond),
            Each = lists:sort(rtt(E, Bin, N, [])),
            io:format("rtt_us ~.2f~n", [(erlang:monotonic_time(microsecond) - T0) / N]),
            io:format("rtt_p50_us ~.1f~nrtt_p99_us ~.1f~n",
                      [lists:nth(N div 2, Each) / 1000, lists:nth(N * 99 div 100, Each) / 1000]);
        "tput" ->
            S = spawn(Node, ?MODULE, sink, [0]),
            T0 = erlang:monotonic_time(microsecond),
            send_n(S, Bin, N),
            S ! {done, self()},
            receive {count, C} ->
                Dt = erlang:monotonic_time(microsecond) - T0,
                io:format("tput_count ~p~n", [C]),
                io:format("tput_mps ~w~n", [round(C / (Dt / 1.0e6))])
            end;
        "spawn" ->
            spawn_n(Node, 100),
            T0 = erlang:monotonic_time(microsecond),
            spawn_n(Node, N),
            io:format("spawn_us ~.2f~n", [(erlang:monotonic_time(microsecond) - T0) / N]),
            io:format("spawn_ok ~p~n", [N])
    end,
    halt(0).
