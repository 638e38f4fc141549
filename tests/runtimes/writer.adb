--  Ada (GNAT): Put_Line + Flush, a write a line.  For tests/runtimes.bats
--  and bench/runtimes.sh.
--    writer stdout N       "line#i" & LF for i < N on standard output
--    writer file N FILE    the same into FILE (Create, Put_Line, Flush), then
--                          Reset to append more; exit status 3
with Ada.Command_Line; use Ada.Command_Line;
with Ada.Strings.Fixed; use Ada.Strings.Fixed;
with Ada.Text_IO;      use Ada.Text_IO;

procedure Writer is
   N : constant Natural := Natural'Value (Argument (2));

   function Line (I : Natural) return String is
     ("line#" & Trim (Natural'Image (I), Ada.Strings.Left));

   F : File_Type;
begin
   if Argument (1) = "stdout" then
      for I in 0 .. N - 1 loop
         Put_Line (Line (I));
         Flush;
      end loop;
   else
      Create (F, Out_File, Argument (3));
      for I in 0 .. N - 1 loop
         Put_Line (F, Line (I));
         Flush (F);
      end loop;
      Reset (F, Append_File);
      for I in N .. 2 * N - 1 loop
         Put_Line (F, Line (I));
         Flush (F);
      end loop;
      Close (F);
      Set_Exit_Status (3);
   end if;
end Writer;
