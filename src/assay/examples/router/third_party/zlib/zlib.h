/* zlib.h -- interface of the 'zlib' general purpose compression library
  version 1.2.11, January 15th, 2017

  (Excerpt kept by the vendor: only the version block of the vendored copy.)
*/
#ifndef ZLIB_H
#define ZLIB_H

#define ZLIB_VERSION "1.2.11"
#define ZLIB_VERNUM 0x12b0
#define ZLIB_VER_MAJOR 1
#define ZLIB_VER_MINOR 2
#define ZLIB_VER_REVISION 11

#endif /* ZLIB_H */
