# cmake -DPRINTER=<smtpp_print_rules> -DREADME=<repo>/README.md -P check_readme_rules.cmake
# The README's "Protocol rules" tables are what print_rules.cpp prints from the sessions'
# rule tables, verbatim: a rule changed in the code without the README (or the reverse) fails.
execute_process(COMMAND "${PRINTER}" OUTPUT_VARIABLE tables RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${PRINTER} failed (${status})")
endif()
file(READ "${README}" readme)
string(FIND "${readme}" "${tables}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md does not show the rule tables as the code has them; "
                      "paste the output of smtpp_print_rules into its \"Protocol rules\" section")
endif()
