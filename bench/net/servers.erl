%% servers.erl - the Erlang/OTP peers of bench/net: the same echo and HTTP
%% hello servers as examples/echo_server.c and examples/http_server.c,
%% written as Erlang programmers do: gen_tcp in passive mode, an acceptor,
%% and one process per connection that owns its socket.
%%
%%   erl -noshell -pa DIR -run servers main echo|http
%% prints "port N" and serves on 127.0.0.1 until killed.
-module(servers).
-export([main/1]).

-define(HELLO, <<"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!">>).

main([Mode]) ->
    {ok, L} = gen_tcp:listen(0, [binary, {packet, raw}, {active, false}, {reuseaddr, true},
                                 {ip, {127, 0, 0, 1}}, {backlog, 4096}]),
    {ok, Port} = inet:port(L),
    io:format("port ~p~n", [Port]),
    accept(L, list_to_atom(Mode)).

accept(L, Mode) ->
    case gen_tcp:accept(L) of
        {ok, S} ->
            Pid = spawn(fun() -> receive go -> conn(S, Mode, <<>>) end end),
            ok = gen_tcp:controlling_process(S, Pid),
            Pid ! go;
        {error, _} ->
            timer:sleep(10)
    end,
    accept(L, Mode).

conn(S, echo, _) ->
    case gen_tcp:recv(S, 0) of
        {ok, Data} ->
            case gen_tcp:send(S, Data) of
                ok -> conn(S, echo, <<>>);
                _ -> gen_tcp:close(S)
            end;
        _ -> gen_tcp:close(S)
    end;
conn(S, http, Buf) ->
    case gen_tcp:recv(S, 0) of
        {ok, Data} ->
            {N, Rest} = requests(<<Buf/binary, Data/binary>>, 0),
            case gen_tcp:send(S, binary:copy(?HELLO, N)) of
                ok -> conn(S, http, Rest);
                _ -> gen_tcp:close(S)
            end;
        _ -> gen_tcp:close(S)
    end.

%% The number of complete request heads in Buf, and what follows them.
requests(Buf, N) ->
    case binary:match(Buf, <<"\r\n\r\n">>) of
        {Pos, 4} -> requests(binary:part(Buf, Pos + 4, byte_size(Buf) - Pos - 4), N + 1);
        nomatch -> {N, Buf}
    end.
