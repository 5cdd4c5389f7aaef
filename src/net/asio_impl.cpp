// The single translation unit that compiles Asio, Asio's SSL support and Beast. The project
// defines BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION, so every other
// file only sees declarations; this keeps builds fast and the binary free of duplicate code.

// GCC 12 with sanitizers reports a false "may be used uninitialized" inside Beast's parser
// (boost::optional); it is third-party code, so silence that one warning for this file only.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
