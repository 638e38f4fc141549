{ Free Pascal: writeln + flush, a write a line.  For tests/runtimes.bats and
  bench/runtimes.sh.
    writer stdout N       'line#i' for i < N on standard output
    writer file N FILE    the same into FILE, then Append N more; exit code 3 }
program writer;

uses SysUtils;

var
  f: Text;
  i, n: LongInt;
begin
  n := StrToInt(ParamStr(2));
  if ParamStr(1) = 'stdout' then
    for i := 0 to n - 1 do
    begin
      writeln('line#', i);
      flush(output);
    end
  else
  begin
    Assign(f, ParamStr(3));
    Rewrite(f);
    for i := 0 to n - 1 do
    begin
      writeln(f, 'line#', i);
      flush(f);
    end;
    Close(f);
    Append(f);
    for i := n to 2 * n - 1 do
    begin
      writeln(f, 'line#', i);
      flush(f);
    end;
    Close(f);
    Halt(3);
  end;
end.
