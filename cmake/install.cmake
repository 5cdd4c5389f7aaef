# `cmake --install`: the binary (top-level install(TARGETS)), the systemd unit and sysusers.d
# entry, the example configuration, rules and runbooks, and the documentation.
#
#   PREFIX/bin/eventrouter
#   PREFIX/lib/systemd/system/eventrouter.service   paths filled in for the install prefix
#   PREFIX/lib/sysusers.d/eventrouter.conf          the eventrouter user
#   SYSCONFDIR/eventrouter/{eventrouter.yaml,rules.d/,runbooks/}
#   PREFIX/share/doc/eventrouter/
#
# SYSCONFDIR is PREFIX/etc, except /etc for the prefix /usr (a system install:
# `cmake --install build --prefix /usr`, docs/operations.md) or an absolute
# CMAKE_INSTALL_SYSCONFDIR.
# Paths are resolved when installing, so `cmake --install BUILD --prefix P` and DESTDIR work.
include(GNUInstallDirs)

set(EVENTROUTER_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Where the systemd unit goes (relative: under the install prefix)")
set(EVENTROUTER_SYSUSERS_DIR "lib/sysusers.d" CACHE STRING
    "Where the sysusers.d entry goes (relative: under the install prefix)")

install(FILES ${PROJECT_SOURCE_DIR}/systemd/eventrouter.sysusers
        DESTINATION ${EVENTROUTER_SYSUSERS_DIR} RENAME eventrouter.conf)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        FILES_MATCHING PATTERN "*.md")

# Configure-time values the install-time code below needs.
install(CODE "
  set(_er_source_dir [[${PROJECT_SOURCE_DIR}]])
  set(_er_work_dir [[${PROJECT_BINARY_DIR}/install-generated]])
  set(_er_sysconfdir [[${CMAKE_INSTALL_SYSCONFDIR}]])
  set(_er_docdir [[${CMAKE_INSTALL_DOCDIR}]])
  set(_er_unit_dir [[${EVENTROUTER_SYSTEMD_UNIT_DIR}]])
")

install(CODE [==[
  # An install-time path: absolute as given, else under the (possibly --prefix) install prefix.
  function(_er_full out dir)
    if(IS_ABSOLUTE "${dir}")
      set(${out} "${dir}" PARENT_SCOPE)
    else()
      set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
    endif()
  endfunction()

  # Installs a configuration file without overwriting one the administrator changed: the
  # shipped version then lands next to it as NAME.dist, like a package manager's conffile.
  function(_er_conffile src dest_dir)
    get_filename_component(name "${src}" NAME)
    set(target "$ENV{DESTDIR}${dest_dir}/${name}")
    if(EXISTS "${target}")
      file(SHA256 "${src}" new_hash)
      file(SHA256 "${target}" old_hash)
      if(NOT new_hash STREQUAL old_hash)
        message(STATUS "Keeping changed: ${target} (shipped version: ${name}.dist)")
        file(INSTALL "${src}" DESTINATION "${dest_dir}" RENAME "${name}.dist"
             USE_SOURCE_PERMISSIONS)
        return()
      endif()
    endif()
    file(INSTALL "${src}" DESTINATION "${dest_dir}" USE_SOURCE_PERMISSIONS)
  endfunction()

  _er_full(_er_bindir "bin")
  # As GNUInstallDirs does for its full paths: the prefix /usr keeps its config in /etc.
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr" AND _er_sysconfdir STREQUAL "etc")
    set(_er_sysconfdir "/etc")
  endif()
  _er_full(_er_confdir "${_er_sysconfdir}/eventrouter")
  _er_full(_er_full_docdir "${_er_docdir}")
  _er_full(_er_full_unit_dir "${_er_unit_dir}")
  file(MAKE_DIRECTORY "${_er_work_dir}")

  # The example config, with the installed state directory instead of the checkout's ../.state.
  file(READ "${_er_source_dir}/config/eventrouter.yaml" _er_config)
  set(_er_state "# Durable state: the event journal, the archive, dead letters and queue files written by\n# queue_file targets with relative paths. The systemd unit (StateDirectory=) creates it.\nstate_dir: /var/lib/eventrouter\n")
  string(REGEX REPLACE "# Durable state[^\n]*\n(#[^\n]*\n)*state_dir:[^\n]*\n" "${_er_state}"
         _er_config "${_er_config}")
  string(REGEX REPLACE "(^|\n)state_dir:[^\n]*" "\\1state_dir: /var/lib/eventrouter"
         _er_config "${_er_config}")
  if(NOT _er_config MATCHES "(^|\n)state_dir: /var/lib/eventrouter")
    string(APPEND _er_config "\n${_er_state}")
  endif()
  file(WRITE "${_er_work_dir}/eventrouter.yaml" "${_er_config}")
  _er_conffile("${_er_work_dir}/eventrouter.yaml" "${_er_confdir}")

  # Rules and runbooks, whatever config/ holds (runbook files keep their executable bit).
  # Rules name runbooks as ../runbooks/..., relative to rules.d, so the layout is kept.
  foreach(_er_sub rules.d runbooks)
    file(GLOB_RECURSE _er_files RELATIVE "${_er_source_dir}/config"
         "${_er_source_dir}/config/${_er_sub}/*")
    foreach(_er_file IN LISTS _er_files)
      get_filename_component(_er_dir "${_er_file}" DIRECTORY)
      _er_conffile("${_er_source_dir}/config/${_er_file}" "${_er_confdir}/${_er_dir}")
    endforeach()
  endforeach()

  # The unit, pointing at this prefix's binary and config.
  file(READ "${_er_source_dir}/systemd/eventrouter.service.in" _er_unit)
  string(REPLACE "@EVENTROUTER_BINDIR@" "${_er_bindir}" _er_unit "${_er_unit}")
  string(REPLACE "@EVENTROUTER_CONFDIR@" "${_er_confdir}" _er_unit "${_er_unit}")
  string(REPLACE "@EVENTROUTER_DOCDIR@" "${_er_full_docdir}" _er_unit "${_er_unit}")
  file(WRITE "${_er_work_dir}/eventrouter.service" "${_er_unit}")
  file(INSTALL "${_er_work_dir}/eventrouter.service" DESTINATION "${_er_full_unit_dir}")
]==])
