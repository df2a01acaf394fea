" Vim syntax file
" Language:     pledge policies (*.pledge)
"
" The word lists follow the keywords of grammar/pledge.pest; tests/editors.rs fails when a
" keyword of the grammar is missing here or a word here is not one of the grammar.

if exists("b:current_syntax")
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

syn case match
" Keywords are letters, digits and `_` only, whatever 'iskeyword' says, so that the words of
" a row id (`s001-quality-fix-same-day`) or a time range are never keywords.
syn iskeyword @,48-57,_,192-255

" Comments and strings.
syn match   pledgeComment   "#.*$" contains=@Spell
syn match   pledgeBadEscape +\\.+ contained
syn match   pledgeEscape    +\\\%(["\\ntr]\|u{\x\{1,6}}\)+ contained
syn region  pledgeString    start=+"+ skip=+\\\\\|\\"+ end=+"\|$+ contains=pledgeEscape,pledgeBadEscape,@Spell
syn region  pledgeTitle     start=+"+ skip=+\\\\\|\\"+ end=+"\|$+ contained contains=pledgeEscape,pledgeBadEscape,@Spell

" Literals. At one place the match defined last wins: a time, date or percentage over the
" number it starts with. A number is followed by its unit, if any.
syn match   pledgeNumber    "-\=\<\d\+\%(\.\d\+\)\=" nextgroup=pledgeUnit skipwhite
syn match   pledgePercent   "-\=\<\d\+\%(\.\d\+\)\=%"
syn match   pledgeDate      "\<\d\d-\d\d\>"
syn match   pledgeDate      "\<\d\{4}-\d\d-\d\d\>"
syn match   pledgeTime      "\<\d\{1,2}:\d\d\%(-\d\{1,2}:\d\d\)\=\>"
syn keyword pledgeUnit      contained seconds second minutes minute hours hour days day weeks week
syn keyword pledgePeriod    contained day week month quarter year
syn keyword pledgeWeekday   mon tue wed thu fri sat sun
syn keyword pledgeBoolean   true false
syn keyword pledgeConstant  null
syn keyword pledgeConstant  string number bool time any
syn keyword pledgeVerdict   contained met breached pending

" A policy, calendar or clause: its keyword, then its name and title.
syn keyword pledgeClause    policy nextgroup=pledgeTitle skipwhite
syn keyword pledgeClause    calendar deadline sample target repeat window record nextgroup=pledgeName skipwhite
" `notify` and `every` are also items (an action, a duty's largest gap): they start a clause
" only at the start of a line.
syn match   pledgeClause    "^\s*\%(notify\|every\)\>" nextgroup=pledgeName skipwhite
syn match   pledgeName      "\h\w*" contained nextgroup=pledgeTitle skipwhite

" The items of declarations and clauses.
syn keyword pledgeItem      zone events include hours holidays holiday workdays workday length
syn keyword pledgeItem      effective when from until within same day by next on pause while
syn keyword pledgeItem      status at after via coverage least most first evidence lag group
syn keyword pledgeItem      of among times then every only each having before warn escalate notify
syn keyword pledgeItem      attributes event allow case register for
syn keyword pledgeItem      measure count mean median percentile change against previous year
syn keyword pledgeItem      steps distinct no followed
syn keyword pledgeItem      apart
syn keyword pledgeItem      alert during covered
syn keyword pledgeItem      require missed
syn keyword pledgeItem      as nextgroup=pledgeName skipwhite
syn keyword pledgeItem      cite nextgroup=pledgeRowId skipwhite
syn keyword pledgeItem      business nextgroup=pledgeUnit skipwhite
syn keyword pledgeItem      per nextgroup=pledgePeriod skipwhite
syn keyword pledgeItem      ratio nextgroup=pledgeVerdict skipwhite
syn keyword pledgeItem      channels audience nextgroup=pledgeQuantifier skipwhite
syn keyword pledgeQuantifier contained all any
syn match   pledgeRowId     "\a\w*\%(-\w\+\)\+" contained

" Conditions.
syn keyword pledgeOperator  and or not in has
syn match   pledgeOperator  "==\|!=\|<=\|>=\|<\|>"
syn match   pledgeOperator  "\.\."
syn match   pledgeOperator  "\s\zs-\ze\s"
syn match   pledgeDelimiter "[{}()\[\],:|]"
syn match   pledgeDelimiter "\a\@<=\.\a\@="

hi def link pledgeComment    Comment
hi def link pledgeString     String
hi def link pledgeTitle      Title
hi def link pledgeEscape     SpecialChar
hi def link pledgeBadEscape  Error
hi def link pledgeNumber     Number
hi def link pledgePercent    Number
hi def link pledgeUnit       Number
hi def link pledgePeriod     Number
hi def link pledgeDate       Constant
hi def link pledgeTime       Constant
hi def link pledgeWeekday    Constant
hi def link pledgeBoolean    Boolean
hi def link pledgeConstant   Constant
hi def link pledgeVerdict    Constant
hi def link pledgeClause     Structure
hi def link pledgeName       Function
hi def link pledgeItem       Keyword
hi def link pledgeQuantifier Keyword
hi def link pledgeRowId      Tag
hi def link pledgeOperator   Operator
hi def link pledgeDelimiter  Delimiter

let b:current_syntax = "pledge"

let &cpo = s:cpo_save
unlet s:cpo_save
