// eventrouter: argument parsing and wiring only; everything else lives in the library.
#include <iostream>

#include "eventrouter/app/cli.hpp"

int main(int argc, char** argv) {
  return eventrouter::app::run_cli(argc, argv, std::cin, std::cout, std::cerr);
}
