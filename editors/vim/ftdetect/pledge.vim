" Policy files of pledge.
autocmd BufRead,BufNewFile *.pledge setfiletype pledge
