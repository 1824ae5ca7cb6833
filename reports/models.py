# Reports read the other apps' models; they own none of their own.
