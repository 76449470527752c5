# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for nestfarmctl(1)

__nestfarmctl_names()
{
	# $1: pool, node, host or snapshot (then $2: the pool); the first column of
	# the list, header skipped
	local -a global=()
	local word
	for word in "${COMP_WORDS[@]}"; do
		[[ $word == --session ]] && global+=(--session)
	done
	nestfarmctl "${global[@]}" "$1" list "${@:2}" 2>/dev/null | awk 'NR > 1 && NF > 1 { print $1 }'
}

_nestfarmctl()
{
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	local global_opts="--session --json --quiet --no-progress --help"
	local -A verbs=(
		[pool]="create delete list show scale start stop inventory"
		[node]="list show start stop reset migrate console ssh"
		[snapshot]="create list revert delete"
		[host]="check list show add remove drain activate"
		[farm]="rebalance"
		[lab]="apply status stop"
	)

	# the group and verb: the first two words that are not options
	local group="" verb="" first_arg="" i word nargs=0
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		case $word in
		--profile | --image | --vcpus | --memory | --disk | --bridge | --vlans | --timeout | --to | --peer-uri | --threshold | --max-moves)
			((i++))
			continue
			;;
		-*) continue ;;
		esac
		if [[ -z $group ]]; then
			group=$word
		elif [[ -z $verb ]]; then
			verb=$word
		else
			[[ -z $first_arg ]] && first_arg=$word
			((nargs++))
		fi
	done

	case $prev in
	--image)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	--vlans)
		mapfile -t COMPREPLY < <(compgen -W "all" -- "$cur")
		return
		;;
	--profile)
		mapfile -t COMPREPLY < <(compgen -W "kvm-compute esxi-host" -- "$cur")
		return
		;;
	--vcpus | --memory | --disk | --bridge | --timeout)
		return
		;;
	esac

	if [[ -z $group ]]; then
		mapfile -t COMPREPLY < <(compgen -W "pool node snapshot host lab help $global_opts --version" -- "$cur")
		return
	fi
	if [[ -z $verb ]]; then
		mapfile -t COMPREPLY < <(compgen -W "${verbs[$group]} --help" -- "$cur")
		return
	fi

	local opts="$global_opts"
	case $group/$verb in
	pool/create) opts+=" --profile --image --vcpus --memory --disk --bridge --vlans --no-start --ssh-key --ssh-user --user-data --network --host --wait-ready" ;;
	pool/delete | pool/stop | node/stop | lab/stop) opts+=" --force --timeout" ;;
	node/console) opts+=" --follow --no-follow" ;;
	snapshot/create) opts+=" --no-memory" ;;
	lab/apply) opts+=" --dry-run --prune" ;;
	esac
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		return
	fi
	# the second argument: a snapshot of the pool the first names
	if ((nargs == 1)) && [[ $group/$verb == snapshot/revert || $group/$verb == snapshot/delete ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(__nestfarmctl_names snapshot "$first_arg")" -- "$cur")
		return
	fi
	((nargs > 0)) && return
	case $group/$verb in
	pool/delete | pool/show | pool/scale | pool/start | pool/stop | pool/inventory | node/list | snapshot/*)
		mapfile -t COMPREPLY < <(compgen -W "$(__nestfarmctl_names pool)" -- "$cur")
		;;
	node/show | node/start | node/stop | node/reset | node/migrate | node/console | node/ssh)
		mapfile -t COMPREPLY < <(compgen -W "$(__nestfarmctl_names node)" -- "$cur")
		;;
	host/show | host/remove | host/drain | host/activate)
		mapfile -t COMPREPLY < <(compgen -W "$(__nestfarmctl_names host)" -- "$cur")
		;;
	lab/*)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -X '!*.pool' -- "$cur"; compgen -d -- "$cur")
		;;
	esac
}

complete -F _nestfarmctl nestfarmctl
