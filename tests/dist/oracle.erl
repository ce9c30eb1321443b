%% oracle.erl - the Erlang side of the cluster tests (tests/t-dist.sh): an
%% Erlang node talks to a lunatic node that runs tests/dist/cluster.c in
%% mode "erl" (a process registered as echo). Prints "ok NAME" or
%% "FAIL NAME: detail" per check, then halts; every wait is bounded.
-module(oracle).
-export([interop/1]).

-define(T, 10000).

check(Name, true) -> io:format("ok   ~s~n", [Name]);
check(Name, Other) -> io:format("FAIL ~s: ~p~n", [Name, Other]).

%% Waits for a message Pattern accepts; others stay queued for the later
%% checks (a busy machine may order unrelated messages differently).
recv(Pattern) ->
    Deadline = erlang:monotonic_time(millisecond) + ?T,
    recv(Pattern, Deadline, []).

recv(Pattern, Deadline, Skipped) ->
    Left = max(0, Deadline - erlang:monotonic_time(millisecond)),
    receive
        M ->
            case Pattern(M) of
                true -> requeue(Skipped), true;
                false -> recv(Pattern, Deadline, [M | Skipped])
            end
    after Left ->
        requeue(Skipped),
        {timeout, lists:reverse(Skipped)}
    end.

requeue(Skipped) -> [self() ! M || M <- lists:reverse(Skipped)], ok.

%% The pid registered as echo on Node, once it is not Old.
whereis_echo(Node, Old, Tries) when Tries > 0 ->
    {lunatic_net, Node} ! {whereis, self(), echo},
    receive
        {lunatic_pid, echo, P} when is_pid(P), P =/= Old -> P;
        {lunatic_pid, echo, _} -> timer:sleep(50), whereis_echo(Node, Old, Tries - 1)
    after ?T -> timeout
    end;
whereis_echo(_, _, _) -> timeout.

ping(Node, Tries) ->
    case net_adm:ping(Node) of
        pong -> pong;
        pang when Tries > 0 -> timer:sleep(100), ping(Node, Tries - 1);
        pang -> pang
    end.

interop([NodeStr]) ->
    Node = list_to_atom(NodeStr),
    check("net_adm:ping gets pong", ping(Node, 50) =:= pong),
    check("the lunatic node is a hidden node", lists:member(Node, nodes(hidden))),
    Pid = whereis_echo(Node, undefined, 100),
    check("lunatic_net whereis gives the pid registered as echo", is_pid(Pid)),
    check("the pid is of that node", is_pid(Pid) andalso node(Pid) =:= Node),

    {echo, Node} ! {echo, self(), <<"hi">>},
    check("send to a registered name; {lunatic, Tag, Bin} comes back",
          recv(fun(M) -> M =:= {lunatic, 7, <<"hi">>} end)),
    Pid ! {lunatic, 9, <<"tagged">>},
    check("send {lunatic, 9, Bin} to the pid: a message with tag 9",
          recv(fun(M) -> M =:= {lunatic, 10, <<"got 9:tagged">>} end)),
    Pid ! {lunatic, undefined, <<"untagged">>},
    check("{lunatic, undefined, Bin}: a message without a tag",
          recv(fun(M) -> M =:= {lunatic, 1, <<"got 0:untagged">>} end)),
    {echo, Node} ! {term_back, self()},
    check("a term the guest encoded arrives as that term",
          recv(fun(M) -> M =:= {back, 42, <<"x">>} end)),

    {echo, Node} ! {wrap, self()},
    check("the SDK builds {lunatic, Tag, Binary} as a term",
          recv(fun(M) -> M =:= {lunatic, 5, <<"wrapped">>} end)),
    {echo, Node} ! {relay, self(), {lunatic, 3, <<"nested">>}},
    check("the SDK reads a nested {lunatic, Tag, Binary}",
          recv(fun(M) -> M =:= {lunatic, 103, <<"nested">>} end)),

    H = spawn(fun() -> receive die -> exit(boom) end end),
    {echo, Node} ! {link_me, H},
    timer:sleep(300),
    check("the guest linked to an Erlang process", element(2, process_info(H, links)) =/= []),
    H ! die,
    check("the Erlang process's exit reaches the lunatic process (LinkDied)",
          recv(fun(M) -> M =:= {lunatic, 11, <<"link died">>} end)),

    process_flag(trap_exit, true),
    link(Pid),
    R1 = monitor(process, Pid),
    R2 = monitor(process, {echo, Node}),
    timer:sleep(200),
    Pid ! {crash},
    check("link: {'EXIT', Pid, failed} when it crashes",
          recv(fun(M) -> M =:= {'EXIT', Pid, failed} end)),
    check("monitor of the pid: DOWN failed",
          recv(fun(M) -> M =:= {'DOWN', R1, process, Pid, failed} end)),
    check("monitor of the name: DOWN failed",
          recv(fun(M) -> M =:= {'DOWN', R2, process, {echo, Node}, failed} end)),

    R4 = monitor(process, Pid),
    check("monitor of a dead lunatic pid: DOWN noproc at once",
          recv(fun(M) -> M =:= {'DOWN', R4, process, Pid, noproc} end)),
    link(Pid),
    check("link to a dead lunatic pid: EXIT noproc",
          recv(fun(M) -> M =:= {'EXIT', Pid, noproc} end)),

    Pid2 = whereis_echo(Node, Pid, 100),
    check("a new echo registered", is_pid(Pid2)),
    R3 = monitor(process, Pid2),
    demonitor(R3),
    link(Pid2),
    unlink(Pid2),
    link(Pid2),
    monitor_node(Node, true),
    timer:sleep(200),
    Pid2 ! {quit},
    check("linked lunatic process ends normally: EXIT normal",
          recv(fun(M) -> M =:= {'EXIT', Pid2, normal} end)),
    check("the node goes when lunatic run ends",
          recv(fun(M) -> M =:= {nodedown, Node} end)),
    check("after demonitor no DOWN came",
          receive {'DOWN', R3, _, _, _} -> got_down after 0 -> true end),
    halt(0).
