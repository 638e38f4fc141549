      *> COBOL (GnuCOBOL): DISPLAY and a line-sequential WRITE, a line at
      *> a time.  For tests/runtimes.bats and bench/runtimes.sh.
      *>   writer stdout N       "line#i" for i < N, DISPLAYed
      *>   writer file N FILE    the same WRITTEN to FILE (line sequential),
      *>                         then EXTENDed by N more; RETURN-CODE 3
       IDENTIFICATION DIVISION.
       PROGRAM-ID. writer.
       ENVIRONMENT DIVISION.
       INPUT-OUTPUT SECTION.
       FILE-CONTROL.
           SELECT OUT-FILE ASSIGN TO DYNAMIC OUT-PATH
               ORGANIZATION IS LINE SEQUENTIAL.
       DATA DIVISION.
       FILE SECTION.
       FD OUT-FILE.
       01 OUT-REC        PIC X(32).
       WORKING-STORAGE SECTION.
       01 OUT-PATH       PIC X(4096).
       01 RUN-MODE       PIC X(16).
       01 N-ARG          PIC X(16).
       01 N              PIC 9(9).
       01 I              PIC 9(9).
       01 I-EDIT         PIC Z(8)9.
       PROCEDURE DIVISION.
           ACCEPT RUN-MODE FROM ARGUMENT-VALUE
           ACCEPT N-ARG FROM ARGUMENT-VALUE
           MOVE FUNCTION NUMVAL(N-ARG) TO N
           IF RUN-MODE = "stdout"
               PERFORM VARYING I FROM 0 BY 1 UNTIL I >= N
                   MOVE I TO I-EDIT
                   DISPLAY "line#" FUNCTION TRIM(I-EDIT)
               END-PERFORM
           ELSE
               ACCEPT OUT-PATH FROM ARGUMENT-VALUE
               OPEN OUTPUT OUT-FILE
               PERFORM VARYING I FROM 0 BY 1 UNTIL I >= N
                   PERFORM WRITE-LINE
               END-PERFORM
               CLOSE OUT-FILE
               OPEN EXTEND OUT-FILE
               PERFORM VARYING I FROM N BY 1 UNTIL I >= 2 * N
                   PERFORM WRITE-LINE
               END-PERFORM
               CLOSE OUT-FILE
               MOVE 3 TO RETURN-CODE
           END-IF
           STOP RUN.
       WRITE-LINE.
           MOVE I TO I-EDIT
           MOVE SPACES TO OUT-REC
           STRING "line#" FUNCTION TRIM(I-EDIT) DELIMITED BY SIZE
               INTO OUT-REC
           WRITE OUT-REC.
