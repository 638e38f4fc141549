// cxx_endl.cc — a C++ program that ends every line with std::endl, which
// flushes std::cout: one write per line.  (Built by bench/run.sh with g++.)
//
//   cxx_endl LINES > FILE
#include <cstdlib>
#include <iostream>

int main(int argc, char **argv)
{
    long lines = argc > 1 ? std::atol(argv[1]) : 500000;
    for (long i = 0; i < lines; i++)
        std::cout << "line#" << i << std::endl;
    return 0;
}
